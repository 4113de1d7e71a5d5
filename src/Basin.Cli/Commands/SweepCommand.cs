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
        cmd.Subcommands.Add(CreateSubmit());
        cmd.Subcommands.Add(CreateStatus());
        return cmd;
    }

    static Option<string?> MeasuresOption() => new("--measures") { Description = "Measures to compute, comma-separated, or 'all' " +
        "(default: the sweep file's list; see 'basin measures')" };

    static Option<string?> TensorBoardOption() => new("--tensorboard") { Description = "Also log each point's training (loss, " +
        "accuracy, gaps, learning rate per epoch) for TensorBoard into DIR/RUN-ID, all points side by side ('tensorboard --logdir DIR')" };

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
        var tensorboard = TensorBoardOption();
        var json = Options.Json();
        var runs = Options.Runs();
        var cmd = new Command("run", """
            Train every point of a sweep to its epoch budget or training-loss target, compute the measures on each model
            and on a randomly reparametrized copy, and record everything in the run database. Resumable: rerunning
            skips finished points and continues interrupted ones from their checkpoints.
            Example: basin sweep run sweeps/fmnist-lenet.json --workers 2
            """) { file, workers, threads, measures, retry, tensorboard, json, runs };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            var path = pr.GetValue(file)!;
            var measureList = pr.GetValue(measures);
            var sweep = Load(path, measureList);
            var folder = pr.GetValue(runs)!;
            int? perWorker = Threads.FromOption(pr.GetValue(threads));
            bool asJson = pr.GetValue(json);
            // Worker processes get the full path: they may resolve a relative one elsewhere.
            var board = pr.GetValue(tensorboard) is { } b ? Path.GetFullPath(b) : null;
            var options = new SweepRunOptions { Workers = pr.GetValue(workers), ThreadsPerWorker = perWorker,
                RetryFailed = pr.GetValue(retry), TensorBoard = board };
            WorkerLauncher launcher = (index, t) => StartWorker(path, folder, index, t, measureList, board);
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

    /// <summary>The command that runs this CLI again: the executable, and the entry assembly when that is dotnet.</summary>
    static IReadOnlyList<string> Self()
    {
        var exe = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? [exe, Assembly.GetEntryAssembly()!.Location] : [exe];
    }

    /// <summary>This CLI again, as `basin sweep worker`; stdin stays open so the worker stops when this process ends.</summary>
    static Process StartWorker(string file, string runs, int index, int threads, string? measures, string? tensorboard)
    {
        var self = Self();
        var psi = new ProcessStartInfo(self[0]) { RedirectStandardInput = true, RedirectStandardOutput = true,
            RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in self.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "sweep", "worker", file, "--runs", runs, "--worker", index.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture), "--watch-stdin" })
            psi.ArgumentList.Add(a);
        if (measures is not null) { psi.ArgumentList.Add("--measures"); psi.ArgumentList.Add(measures); }
        if (tensorboard is not null) { psi.ArgumentList.Add("--tensorboard"); psi.ArgumentList.Add(tensorboard); }
        SweepRunner.PrepareWorkerEnvironment(psi, threads);
        return Process.Start(psi) ?? throw new BasinException($"could not start a sweep worker ({self[0]})");
    }

    static Option<double> LeaseOption() => new("--lease")
    {
        Description = "Seconds a worker's claim on a point lasts without renewal; a point whose worker died is claimed again after it",
        DefaultValueFactory = _ => SweepLease.Default.Duration.TotalSeconds,
    };

    static Option<int> MaxAttemptsOption() => new("--max-attempts")
    {
        Description = "Claims of one point before it is marked failed (its workers kept dying)",
        DefaultValueFactory = _ => SweepLease.Default.MaxAttempts,
    };

    static SweepLease Lease(ParseResult pr, Option<double> lease, Option<int> attempts) => new()
    {
        Duration = double.IsFinite(pr.GetValue(lease)) && pr.GetValue(lease) > 0 ? TimeSpan.FromSeconds(pr.GetValue(lease))
            : throw new OptionException("lease", $"--lease must be a positive number of seconds, got {pr.GetValue(lease)}"),
        MaxAttempts = pr.GetValue(attempts),
    };

    static Command CreateWorker()
    {
        var file = new Argument<string>("file") { Description = "Sweep file (JSON); its points must be registered (sweep run or submit)" };
        var index = new Option<int>("--worker") { Description = "This worker's number (names it in the run store)",
            DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => 1 };
        var measures = MeasuresOption();
        var runs = Options.Runs();
        var lease = LeaseOption();
        var attempts = MaxAttemptsOption();
        var watch = new Option<bool>("--watch-stdin") { Description = "Stop when stdin ends (set by 'basin sweep run')", Hidden = true };
        var tensorboard = TensorBoardOption();
        var cmd = new Command("worker", """
            One worker: claims points of a sweep from the run store one at a time, holds a lease on each while it trains and
            measures it, and stops when no point is left (waiting while other workers still hold points, to take over any
            whose worker dies). Any launcher may start it (SLURM, ssh, Kubernetes); with --store the workers of many
            machines share one PostgreSQL run store. SIGTERM writes the checkpoint and gives the point back.
            """) { file, index, threads, measures, runs, lease, attempts, watch, tensorboard };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Started by 'basin sweep run', which holds our stdin open: end of input means it is gone or cancelling.
            if (pr.GetValue(watch))
                _ = Task.Run(() => { try { while (Console.In.Read() >= 0) { } } catch (IOException) { } stop.Cancel(); });
            var sweep = Load(pr.GetValue(file)!, pr.GetValue(measures), quiet: true);   // the coordinator printed the notes
            var label = $"worker-{pr.GetValue(index)}";
            var name = RunStore.WorkerName(label);
            var options = new SweepWorkerOptions { Lease = Lease(pr, lease, attempts), WaitForOthers = true,
                TensorBoard = pr.GetValue(tensorboard) };
            SweepWorker.Run(sweep, pr.GetValue(runs)!, name, Threads.FromOption(pr.GetValue(threads)),
                new SweepLog(json: false, prefix: $"{label}-{Environment.ProcessId} "), stop.Token, options);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command CreateSubmit()
    {
        var file = new Argument<string>("file") { Description = "Sweep file (JSON)" };
        var slurm = new Option<bool>("--slurm") { Description = "Submit to SLURM (the only launcher so far; required)" };
        var tasks = new Option<int>("--tasks") { Description = "Workers: array tasks, each pulling points until none is left",
            DefaultValueFactory = _ => new SlurmOptions().Tasks };
        var cpus = new Option<int>("--cpus-per-task") { Description = "CPUs (and threads) per worker",
            DefaultValueFactory = _ => new SlurmOptions().CpusPerTask };
        var time = new Option<string?>("--time") { Description = "SLURM time limit per worker, e.g. 04:00:00 (default: the partition's)" };
        var gres = new Option<string?>("--gres") { Description = "SLURM generic resources per worker, e.g. gpu:1" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Register the points and write the scripts, but do not submit" };
        var retryFailed = new Option<bool>("--retry-failed") { Description = "Give failed points another try (a run continues from "
            + "its last checkpoint)" };
        var measures = MeasuresOption();
        var tensorboard = TensorBoardOption();
        var runs = Options.Runs();
        var lease = LeaseOption();
        var attempts = MaxAttemptsOption();
        var json = Options.Json();
        var cmd = new Command("submit", """
            Run a sweep on a SLURM cluster: register its points in the run store (use --store with a PostgreSQL server the
            nodes reach, and a --runs folder they share), write a job-array script of workers and a report script to
            RUNS/sweeps/NAME/slurm/, submit both (the report after the workers) and print the job ids.
            Example: basin sweep submit sweeps/fmnist-lenet.json --slurm --tasks 8 --cpus-per-task 4 --time 04:00:00
            """) { file, slurm, tasks, cpus, time, gres, dryRun, retryFailed, measures, tensorboard, runs, lease, attempts, json };
        cmd.SetAction(pr =>
        {
            if (!pr.GetValue(slurm)) throw new OptionException("slurm", "give --slurm (SLURM is the only launcher 'submit' knows)");
            var path = pr.GetValue(file)!;
            var sweep = Load(path, pr.GetValue(measures));
            var options = new SlurmOptions { Tasks = pr.GetValue(tasks), CpusPerTask = pr.GetValue(cpus), Time = pr.GetValue(time),
                Gres = pr.GetValue(gres), Lease = Lease(pr, lease, attempts), RetryFailed = pr.GetValue(retryFailed),
                TensorBoard = pr.GetValue(tensorboard) };
            var result = SlurmSubmission.Submit(sweep, path, pr.GetValue(runs)!, Self(), options, pr.GetValue(measures),
                pr.GetValue(dryRun));
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(result)); return Cli.ExitOk; }
            Console.WriteLine($"sweep {result.Sweep}: {result.Points} points registered");
            Console.WriteLine($"workers script: {result.WorkerScript}");
            Console.WriteLine($"report script:  {result.ReportScript}");
            if (result.WorkerJobId is null) Console.WriteLine("dry run: nothing submitted (sbatch the scripts yourself, workers first)");
            else Console.WriteLine($"submitted: workers job {result.WorkerJobId}, report job {result.ReportJobId} (after the workers). "
                + $"Follow it with: basin sweep status {path}");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static Command CreateStatus()
    {
        var sweepArg = new Argument<string>("sweep") { Description = "Sweep file or the sweep's name" };
        var runs = Options.Runs();
        var json = Options.Json();
        var cmd = new Command("status", "Points of a sweep by status, and who holds the running ones until when") { sweepArg, runs, json };
        cmd.SetAction(pr =>
        {
            var arg = pr.GetValue(sweepArg)!;
            var name = File.Exists(arg) ? SweepFile.Load(arg).Name : arg;
            using var store = SweepStore.Open(pr.GetValue(runs)!);
            var points = store.Points(name);
            if (points.Count == 0) throw new BasinException($"no sweep '{name}' in the run store {store.Database.Location} (known: "
                + $"{(store.Sweeps() is { Count: > 0 } s ? string.Join(", ", s) : "none")}; --store or BASIN_STORE names a server)");
            var counts = new[] { PointStatus.Done, PointStatus.Running, PointStatus.Pending, PointStatus.Failed }
                .ToDictionary(s => s, s => points.Count(p => p.Status == s));
            if (pr.GetValue(json))
            {
                Console.WriteLine(Json.Serialize(new { sweep = name, points = points.Count, counts,
                    running = points.Where(p => p.Status == PointStatus.Running).Select(p => new { p.Key, p.Worker, p.LeaseUntil,
                        p.Attempts }),
                    failed = points.Where(p => p.Status == PointStatus.Failed).Select(p => new { p.Key, p.Message }) }));
                return Cli.ExitOk;
            }
            Console.WriteLine($"sweep {name}: {points.Count} points: {counts[PointStatus.Done]} done, {counts[PointStatus.Running]} "
                + $"running, {counts[PointStatus.Pending]} pending, {counts[PointStatus.Failed]} failed");
            var now = DateTime.UtcNow;
            foreach (var p in points.Where(p => p.Status == PointStatus.Running))
                Console.WriteLine($"  running {p.Key}: {p.Worker ?? "?"}, lease "
                    + (p.LeaseUntil is { } u ? (u > now ? $"{(u - now).TotalSeconds:F0} s left" : "ended") : "none")
                    + $", claim {p.Attempts}");
            foreach (var p in points.Where(p => p.Status == PointStatus.Failed))
                Console.WriteLine($"  failed {p.Key}: {p.Message}");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static Command CreateReport()
    {
        var sweepArg = new Argument<string>("sweep") { Description = "Sweep file or the sweep's name" };
        var gap = new Option<string>("--gap") { Description = "Gap to score against: accuracy (the acc gap, train − test accuracy) " +
            "or loss (the loss gap, test − train loss in nats); default: the sweep file's" };
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
            $"{r.Models.Count} models scored{(r.ReachedTargetOnly ? " (reached the loss target)" : "")}; gap = " +
            $"{(r.Gap == "loss" ? "loss gap (test − train)" : "acc gap (train − test)")}; axes: " +
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
