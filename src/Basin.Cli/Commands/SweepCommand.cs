using Basin.IO;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Basin.Measures;
using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin sweep run|report` (and the hidden `basin sweep worker` that `run` starts as subprocesses).</summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var cmd = new Command("sweep", "Train a family of models over hyper-parameter axes, compute generalization measures, and score " +
            "them against the gap");
        cmd.Subcommands.Add(CreateRun());
        cmd.Subcommands.Add(CreateReport());
        cmd.Subcommands.Add(CreateWorker());
        return cmd;
    }

    static Option<string?> MeasuresOption() => new("--measures") { Description = "Measures to compute, comma-separated, or 'all' " +
        "(default: the sweep file's list; see 'basin measures')" };

    /// <summary>The sweep file, with the measures of <paramref name="measures"/> if given; notes on old measure names go to stderr unless
    /// <paramref name="quiet"/>.</summary>
    static SweepDefinition Load(string file, string? measures, bool quiet = false)
    {
        var sweep = SweepFile.Load(file);
        var notes = new List<string>();
        if (measures is not null) sweep = sweep with { Measures = MeasureRegistry.Resolve([measures], MeasureScope.Model, notes) };
        else MeasureRegistry.Resolve(sweep.Measures, MeasureScope.Model, notes);
        if (!quiet) foreach (var note in notes) CliWarning.Write(note);
        return sweep;
    }

    static Command CreateRun()
    {
        var file = new Argument<string>("file") { Description = "Sweep file (JSON), e.g. sweeps/fmnist-lenet.json" };
        var workers = new Option<int>("--workers") { Description = "Worker processes training points in parallel",
            DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Threads per worker (default: cores / workers)",
            DefaultValueFactory = _ => 0 };
        var measures = MeasuresOption();
        var retry = new Option<bool>("--retry-failed") { Description = "Try failed points again (a diverged run continues from " +
            "its last checkpoint)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var cmd = new Command("run", """
            Train every point of a sweep to its epoch budget or training-loss target, compute the measures on each model
            and on a randomly reparametrized copy, and record everything in the run database. Resumable: rerunning
            skips finished points and continues interrupted ones from their checkpoints.
            Example: basin sweep run sweeps/fmnist-lenet.json --workers 2
            """) { file, workers, threads, measures, retry, json, runs };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            var path = pr.GetValue(file)!;
            var measureList = pr.GetValue(measures);
            var sweep = Load(path, measureList);
            var folder = pr.GetValue(runs)!;
            int? perWorker = Threads.FromOption(pr.GetValue(threads));
            bool asJson = pr.GetValue(json);
            var options = new SweepRunOptions { Workers = pr.GetValue(workers), ThreadsPerWorker = perWorker,
                RetryFailed = pr.GetValue(retry) };
            WorkerLauncher launcher = (index, t) => StartWorker(path, folder, index, t, measureList);
            var progress = new SweepLog(asJson);
            var result = SweepRunner.Run(sweep, folder, options, launcher, progress, ct);
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else AnsiConsole.MarkupLine($"sweep [bold]{Markup.Escape(result.Sweep)}[/]: {result.Total} points, {result.FinishedBefore} " +
                $"finished before, {result.FinishedNow} now, {result.Failed} failed, {result.Open} open; {result.Seconds:F0} s. "
                + (result.Failed > 0 ? $"Retry the failed points: basin sweep run {Markup.Escape(path)} --retry-failed. " : "")
                + $"Next: basin sweep report {Markup.Escape(path)}");
            return result.Open == 0 ? Cli.ExitOk : Cli.ExitError;
        }, ct));
        return cmd;
    }

    /// <summary>This CLI again, as `basin sweep worker`; stdin stays open so the worker stops when this process ends.</summary>
    static Process StartWorker(string file, string runs, int index, int threads, string? measures)
    {
        var exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "sweep", "worker", file, "--runs", runs, "--worker", index.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        if (measures is not null) { psi.ArgumentList.Add("--measures"); psi.ArgumentList.Add(measures); }
        SweepRunner.PrepareWorkerEnvironment(psi, threads);
        return Process.Start(psi) ?? throw new BasinException($"could not start a sweep worker ({exe})");
    }

    static Command CreateWorker()
    {
        var file = new Argument<string>("file");
        var index = new Option<int>("--worker") { DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var measures = MeasuresOption();
        var runs = Options.Runs();
        var cmd = new Command("worker", "Internal: one sweep worker process (started by 'basin sweep run --workers N')") { file, index,
            threads, measures, runs };
        cmd.Hidden = true;
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // The coordinator holds our stdin open; end of input means it is gone or cancelling.
            _ = Task.Run(() => { try { while (Console.In.Read() >= 0) { } } catch (IOException) { } stop.Cancel(); });
            var sweep = Load(pr.GetValue(file)!, pr.GetValue(measures), quiet: true);   // the coordinator printed the notes
            var name = $"worker-{pr.GetValue(index)}-{Environment.ProcessId}";
            SweepWorker.Run(sweep, pr.GetValue(runs)!, name, Threads.FromOption(pr.GetValue(threads)), new SweepLog(json: false,
                prefix: name + " "), stop.Token);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command CreateReport()
    {
        var sweepArg = new Argument<string>("sweep") { Description = "Sweep file or the sweep's name" };
        var gap = new Option<string>("--gap") { Description = "Gap to score against: accuracy (train − test accuracy) or loss (test " +
            "− train loss); default: the sweep file's" };
        var output = new Option<string?>("--out") { Description = "Folder for ranking.csv/json, models.csv and scatter/*.png " +
            "(default: RUNS/sweeps/NAME)" };
        var reached = new Option<bool>("--reached-target-only") { Description = "Score only models whose run reached the sweep's " +
            "training-loss target (leave out those that ran out of epochs)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var wide = FittedTable.WideOption();
        var cmd = new Command("report", """
            Rank the measures of a sweep by Kendall τ with the generalization gap, with granulated Ψ per axis and
            overall and the CMI score, before and after random function-preserving reparametrization; write the table
            as CSV/JSON and scatter plots as PNG.
            """) { sweepArg, gap, output, reached, json, runs, wide };
        cmd.SetAction(pr =>
        {
            var arg = pr.GetValue(sweepArg)!;
            string name = arg, gapName = pr.GetValue(gap) ?? "accuracy";
            if (File.Exists(arg))
            {
                var sweep = SweepFile.Load(arg);
                name = sweep.Name;
                gapName = pr.GetValue(gap) ?? sweep.Gap;
            }
            var folder = pr.GetValue(runs)!;
            var report = SweepReport.Build(folder, name, gapName, pr.GetValue(reached));
            var outFolder = pr.GetValue(output) ?? Path.Combine(folder, "sweeps", name);
            var files = SweepReportFiles.Write(report, outFolder);
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(report)); return Cli.ExitOk; }
            Render(report, pr.GetValue(wide));
            AnsiConsole.MarkupLine($"wrote {files.Count} files to {Markup.Escape(outFolder)}");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

    static void Render(SweepReportResult r, bool wide)
    {
        AnsiConsole.Console.Profile.Width = FittedTable.TargetWidth();
        AnsiConsole.MarkupLine($"sweep [bold]{Markup.Escape(r.Sweep)}[/]: {r.Done} of {r.Points} points done, {r.Failed} failed; " +
            $"{r.Models.Count} models scored{(r.ReachedTargetOnly ? " (reached the loss target)" : "")}; gap = {r.Gap}; axes: " +
            $"{Markup.Escape(string.Join(", ", r.Axes))}");
        if (r.Done < r.Points)
            AnsiConsole.MarkupLine($"[yellow]{r.Points - r.Done} of {r.Points} points are missing ({r.Failed} failed, " +
                $"{r.Points - r.Done - r.Failed} not finished): the ranking scores only the models that finished; 'basin sweep run FILE " +
                "--retry-failed' tries the failed ones again[/]");
        var t = new FittedTable([new("measure"), new("invariant", 2), new("τ"), new("Ψ"),
            .. r.Axes.Select(a => new FittedColumn("ψ " + a, 3)), new("CMI", 2), new("τ reparam", 1), new("Ψ reparam", 2),
            new("max change", 3), new("s/model", 4)]);
        foreach (var row in r.Ranking)
        {
            var cells = new List<string> { row.Measure, row.Invariance switch { Invariance.NeuronWise => "neuron",
                Invariance.LayerWise => "layer", _ => "-" }, F(row.Original.Tau), F(row.Original.Psi) };
            cells.AddRange(r.Axes.Select(a => F(row.Original.PsiPerAxis.GetValueOrDefault(a, double.NaN))));
            cells.AddRange([F(row.Original.Cmi), F(row.Reparametrized.Tau), F(row.Reparametrized.Psi),
                row.MaxRelativeChange.ToString("0.0e+0", CultureInfo.InvariantCulture), row.MeanSeconds.ToString("0.00",
                CultureInfo.InvariantCulture)]);
            t.AddRow(cells.ToArray());
        }
        t.Write(wide);
    }

    /// <summary>One line per finished point (and per worker line), on stderr, so --json output stays clean.</summary>
    sealed class SweepLog(bool json, string prefix = "") : IProgress<SweepEvent>
    {
        public void Report(SweepEvent e)
        {
            string? line = e switch
            {
                SweepStarted s => $"sweep {s.Sweep}: {s.Total} points, {s.Finished} already finished; {s.Workers} worker(s) × " +
                    $"{s.ThreadsPerWorker} thread(s)",
                PointFinished f => $"{f.Status} {f.Key} ({f.Seconds:F1} s){(f.Message is null ? "" : ": " + f.Message)}",
                WorkerOutput w => w.Line,
                _ => null,
            };
            if (line is null) return;
            if (json) Console.Error.WriteLine(prefix + line);
            else Console.WriteLine(prefix + line);
        }
    }
}
