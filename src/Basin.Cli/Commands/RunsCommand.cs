using System.CommandLine;
using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin runs list`, `basin runs show ID` and `basin runs delete ID`: read the run database, or delete a run.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var cmd = new Command("runs", "List and inspect recorded runs (config, seed, versions, per-epoch metrics)");
        cmd.Subcommands.Add(CreateList());
        cmd.Subcommands.Add(CreateShow());
        cmd.Subcommands.Add(CreateDelete());
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
            AnsiConsole.MarkupLine("[bold]config[/] " + Markup.Escape(run.Config.GetRawText().ReplaceLineEndings(" ")));
            if (s.Kind == "train" && TrainJobSpec.FamFormNote(run.Config) is { } famNote)
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(famNote)}");
            AnsiConsole.MarkupLine("[bold]versions[/] " + Markup.Escape(run.Versions.GetRawText().ReplaceLineEndings(" ")));
            if (run.Epochs.Count > 0)
            {
                var names = run.Epochs[0].EnumerateObject().Select(p => p.Name).ToList();
                var table = new Table().AddColumns(names.Select(n => Markup.Escape(EpochHeader(n))).ToArray());
                foreach (var e in run.Epochs)
                    table.AddRow(names.Select(n => Markup.Escape(EpochCell(n, e.GetProperty(n)))).ToArray());
                AnsiConsole.Write(table);
            }
            if (s.Final is { } fin) AnsiConsole.MarkupLine("[bold]final[/] " + Markup.Escape(fin.GetRawText().ReplaceLineEndings(" ")));
            return Cli.ExitOk;
        });
        return cmd;
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
