using System.CommandLine;
using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Experiments.Reports;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>
/// `basin runs list`, `show ID`, `delete ID`, `export [IDs]` and `compare A B`: read the run database, export or compare
/// runs, or delete one.
/// </summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var cmd = new Command("runs", "List and inspect recorded runs (config, seed, versions, per-epoch metrics)");
        cmd.Subcommands.Add(CreateList());
        cmd.Subcommands.Add(CreateShow());
        cmd.Subcommands.Add(CreateDelete());
        cmd.Subcommands.Add(CreateExport());
        cmd.Subcommands.Add(CreateCompare());
        return cmd;
    }

    static Command CreateExport()
    {
        var ids = new Argument<string[]>("ids")
        {
            Description = "Run ids or unique prefixes (default: every run)", Arity = ArgumentArity.ZeroOrMore,
        };
        var csv = new Option<bool>("--csv") { Description = "Write runs.csv (one row per run: labels, config.*, final.*) and epochs.csv " +
            "(one row per epoch) into --out" };
        var json = new Option<bool>("--json") { Description = "Print both tables as JSON (the default)" };
        var output = new Option<string?>("--out") { Description = "Folder for the CSV files (default: RUNS/export)" };
        var runs = Options.Runs();
        var cmd = new Command("export", "Export runs: one row per run with its config and final figures, and their per-epoch metrics")
            { ids, csv, json, output, runs };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(csv) && r.GetValue(json)) r.AddError("--csv and --json cannot be used together");
            if (r.GetValue(output) is not null && !r.GetValue(csv)) r.AddError("--out goes with --csv (JSON goes to stdout)");
        });
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var export = RunExport.Of(store, pr.GetValue(ids) ?? []);
            if (!pr.GetValue(csv))
            {
                Console.WriteLine(Json.Serialize(new { Runs = export.Runs.Objects(), Epochs = export.Epochs.Objects() }));
                return Cli.ExitOk;
            }
            var (runsCsv, epochsCsv) = export.WriteCsv(pr.GetValue(output) ?? Path.Combine(store.Folder, "export"));
            Console.WriteLine($"Wrote {runsCsv} ({export.Runs.Rows.Count} runs) and {epochsCsv} ({export.Epochs.Rows.Count} epochs).");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static Command CreateCompare()
    {
        var a = new Argument<string>("a") { Description = "First run id (or a unique prefix): differences are B − A" };
        var b = new Argument<string>("b") { Description = "Second run id (or a unique prefix)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var cmd = new Command("compare", "Two runs side by side: the config settings that differ, and the final figures and " +
            "measures with B − A") { a, b, json, runs };
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var c = RunComparison.Of(store, pr.GetValue(a)!, pr.GetValue(b)!);
            if (pr.GetValue(json))
            {
                Console.WriteLine(Json.Serialize(new { A = c.A.Id, B = c.B.Id, c.Config, c.Figures }));
                return Cli.ExitOk;
            }
            AnsiConsole.MarkupLine(Markup.Escape($"A {c.A.Id}: {ReportPage.Label(c.A)} ({c.A.Status})"));
            AnsiConsole.MarkupLine(Markup.Escape($"B {c.B.Id}: {ReportPage.Label(c.B)} ({c.B.Status})"));
            if (c.Config.Count == 0) Console.WriteLine("Same config.");
            else
            {
                var t = new Table { Title = new TableTitle("config settings that differ") }.AddColumns("setting", "A", "B");
                foreach (var d in c.Config) t.AddRow(Markup.Escape(d.Key), Markup.Escape(d.A ?? "–"), Markup.Escape(d.B ?? "–"));
                AnsiConsole.Write(t);
            }
            var f = new Table { Title = new TableTitle("final figures and measures") }.AddColumns("figure", "A", "B", "B − A");
            foreach (var x in c.Figures)
                f.AddRow(Markup.Escape(x.Figure), ReportPage.Show(x.A), ReportPage.Show(x.B), ReportPage.ShowDifference(x.Difference));
            AnsiConsole.Write(f);
            return Cli.ExitOk;
        });
        return cmd;
    }

    static Command CreateList()
    {
        var json = Options.Json();
        var runs = Options.Runs();
        var wide = FittedTable.WideOption();
        var method = new Option<string>("--method") { Description = "Only runs of this method (sgd, sam, fam, ...; gan for GAN runs)" };
        var status = new Option<string>("--status") { Description = "Only runs with this status (running, finished, failed, " +
            "cancelled, interrupted)" };
        var tag = new Option<string>("--tag") { Description = "Only runs given this tag ('basin train --tag T')" };
        var cmd = new Command("list", "List all runs, newest first") { json, runs, wide, method, status, tag };
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            string? m = pr.GetValue(method), st = pr.GetValue(status), tg = pr.GetValue(tag);
            var list = store.List(m, st, tg);
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(list)); return Cli.ExitOk; }
            if (list.Count == 0 && (m ?? st ?? tg) is not null)
            {
                Console.WriteLine($"No runs in {store.Folder} match{(m is null ? "" : $" method '{m}'")}"
                    + $"{(st is null ? "" : $" status '{st}'")}{(tg is null ? "" : $" tag '{tg}'")}.");
                return Cli.ExitOk;
            }
            if (list.Count == 0) { Console.WriteLine($"No runs yet in {store.Folder}. Try './basin " +
                "demo' or './basin train'."); return Cli.ExitOk; }
            // The method column names a GAN run's kind (gan, gan-compare), so the kind needs no column of its own.
            var table = new FittedTable(new("id"), new("method"), new("status"), new("model", 1), new("dataset", 2), new("seed", 3),
                new(TrainingView.TestAccuracy), new(TrainingView.AccuracyGap, 1));
            foreach (var r in list)
                table.AddRow(r.Id, Markup.Escape(r.Method ?? r.Kind), StatusMarkup(r.Status), Markup.Escape(r.Model ?? ""),
                    Markup.Escape(r.Dataset ?? ""), r.Seed.ToString(), Percent(r.Final, "testAccuracy"), Percent(r.Final, "accuracyGap"));
            table.Write(pr.GetValue(wide));
            return Cli.ExitOk;
        });
        return cmd;
    }

    static Command CreateShow()
    {
        var id = new Argument<string>("id") { Description = "Run id (or a unique prefix of it)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var cmd = new Command("show", "Show one run: config, versions, per-epoch metrics and final figures") { id, json, runs };
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var run = store.Get(pr.GetValue(id)!);
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(run)); return Cli.ExitOk; }
            var s = run.Summary;
            AnsiConsole.MarkupLine($"[bold]{s.Id}[/]  {s.Kind}  {StatusMarkup(s.Status)}  model {Markup.Escape(s.Model ?? "-")}  data " +
                $"{Markup.Escape(s.Dataset ?? "-")}  seed {s.Seed}");
            AnsiConsole.MarkupLine($"started {s.CreatedUtc:u}" + (s.FinishedUtc is { } f ? $", ended {f:u}" : ""));
            if (s.Name is { } nm) AnsiConsole.MarkupLine($"name {Markup.Escape(nm)}");
            if (s.Tags.Count > 0) AnsiConsole.MarkupLine($"tags {Markup.Escape(string.Join(", ", s.Tags))}");
            if (s.Message is { } m) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(m)}[/]");
            WriteSettings("config", run.Config);
            if (s.Kind == "train" && TrainJobSpec.FamFormNote(run.Config) is { } famNote)
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(famNote)}");
            AnsiConsole.MarkupLine("[bold]versions[/] " + Markup.Escape(string.Join("  ",
                RunExport.Settings(run.Versions).Select(v => $"{v.Key} {v.Value}"))));
            if (run.Epochs.Count > 0)
            {
                var names = run.Epochs[0].EnumerateObject().Select(p => p.Name).ToList();
                var table = new Table().AddColumns(names.Select(n => Markup.Escape(EpochHeader(n))).ToArray());
                foreach (var e in run.Epochs)
                    table.AddRow(names.Select(n => Markup.Escape(EpochCell(n, e.GetProperty(n)))).ToArray());
                AnsiConsole.Write(table);
            }
            if (s.Final is { } fin) WriteSettings("final", fin);
            return Cli.ExitOk;
        });
        return cmd;
    }

    /// <summary>A JSON object as a table of settings and values, two pairs per row to keep it short.</summary>
    static void WriteSettings(string title, System.Text.Json.JsonElement e)
    {
        var cells = RunExport.Settings(e);
        if (cells.Count == 0) return;
        var table = new Table { Title = new TableTitle($"[bold]{title}[/]") }.AddColumns("setting", "value", "setting", "value");
        for (int i = 0; i < cells.Count; i += 2)
        {
            var right = i + 1 < cells.Count ? cells[i + 1] : new KeyValuePair<string, string>("", "");
            table.AddRow(Markup.Escape(cells[i].Key), Markup.Escape(cells[i].Value), Markup.Escape(right.Key), Markup.Escape(right.Value));
        }
        AnsiConsole.Write(table);
    }

    static Command CreateDelete()
    {
        var id = new Argument<string>("id") { Description = "Run id (or a unique prefix of it)" };
        var runs = Options.Runs();
        var cmd = new Command("delete", "Delete a run that is not running: its database rows and its folder") { id, runs };
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var deleted = store.Delete(pr.GetValue(id)!);
            Console.WriteLine($"Deleted run {deleted} and its folder {store.RunFolder(deleted)}.");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static string StatusMarkup(string status) => status switch
    {
        RunStatus.Finished => "[green]finished[/]",
        RunStatus.Failed => "[red]failed[/]",
        RunStatus.Cancelled => "[yellow]cancelled[/]",
        _ => Markup.Escape(status),
    };

    static string Percent(JsonElement? final, string name) =>
        final is { ValueKind: JsonValueKind.Object } f && f.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? TrainingView.Points(v.GetDouble())
            : "";

    /// <summary>An epoch field's header with its unit (TrainingView's convention); other fields keep their names.</summary>
    internal static string EpochHeader(string field) => field switch
    {
        "trainLoss" => TrainingView.TrainLoss,
        "testLoss" => TrainingView.TestLoss,
        "gap" => TrainingView.LossGap,
        "trainAccuracy" => TrainingView.TrainAccuracy,
        "testAccuracy" => TrainingView.TestAccuracy,
        "accuracyGap" => TrainingView.AccuracyGap,
        "learningRate" => "lr",
        "meanObjective" => "mean objective",
        "seconds" => "time (s)",
        _ => field,
    };

    /// <summary>Accuracies and the accuracy gap (fractions in the record) in % and points; the rest as stored.</summary>
    static string EpochCell(string field, JsonElement v) => field is "trainAccuracy" or "testAccuracy" or "accuracyGap"
        && v.ValueKind == JsonValueKind.Number ? TrainingView.Points(v.GetDouble()) : Format(v);

    internal static string Format(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out var i) => i.ToString(),
        JsonValueKind.Number => v.GetDouble().ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
        JsonValueKind.Null => "",
        JsonValueKind.String => v.GetString() ?? "",
        _ => v.GetRawText(),
    };
}
