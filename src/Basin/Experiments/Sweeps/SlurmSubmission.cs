using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Basin.Experiments.Sweeps;

/// <summary>The job array <see cref="SlurmSubmission.Submit"/> asks SLURM for.</summary>
public sealed record SlurmOptions
{
    /// <summary>Workers (array tasks); each pulls points until none is left.</summary>
    public int Tasks { get; init => field = Check.AtLeast(value, 1, "tasks"); } = 2;
    public int CpusPerTask { get; init => field = Check.AtLeast(value, 1, "cpusPerTask"); } = 1;
    /// <summary>SLURM's --time for each worker (e.g. "04:00:00"); null: the partition's default.</summary>
    public string? Time { get; init => field = Token(value, "time"); }
    /// <summary>SLURM's --gres (e.g. "gpu:1"); null: none.</summary>
    public string? Gres { get; init => field = Token(value, "gres"); }
    public SweepLease Lease { get; init; } = SweepLease.Default;

    /// <summary>Give failed points another try (their runs continue from their last checkpoints).</summary>
    public bool RetryFailed { get; init; }

    /// <summary>A folder for TensorBoard that the workers log each point's training into (FOLDER/RUN-ID); null: none.</summary>
    public string? TensorBoard { get; init; }

    static string? Token(string? value, string name) =>
        value is null || Regex.IsMatch(value, "^[A-Za-z0-9:._,=+-]+$") ? value
            : throw new OptionException(name, $"{name} '{value}' has characters SLURM does not take");
}

/// <summary>What <see cref="SlurmSubmission.Submit"/> wrote and submitted (job ids null with a dry run).</summary>
public sealed record SlurmSubmissionResult(string Sweep, int Points, string WorkerScript, string ReportScript, string? WorkerJobId,
    string? ReportJobId);

/// <summary>
/// Runs a sweep on a SLURM cluster: registers its points in the run store, writes a job-array script of long-lived
/// pull-mode workers (each runs `basin sweep worker`) and a report script next to the sweep's outputs, where users can
/// read and edit them, and submits the array and a report job that runs after it. The store's URL is not written into
/// the scripts (it may hold a password): sbatch passes the submitting environment, BASIN_STORE included, to the jobs.
/// SLURM's warning signal (SIGTERM two minutes before the time limit) makes a worker checkpoint and give its point back.
/// </summary>
public static class SlurmSubmission
{
    /// <summary>Seconds before the time limit at which SLURM sends the workers SIGTERM.</summary>
    public const int WarningSeconds = 120;

    /// <param name="basin">The command that runs this Basin (e.g. ["dotnet", "/path/Basin.Cli.dll"]).</param>
    /// <param name="measures">The measures option passed on to the workers, or null for the sweep file's.</param>
    public static SlurmSubmissionResult Submit(SweepDefinition sweep, string sweepFile, string runsFolder, IReadOnlyList<string> basin,
        SlurmOptions options, string? measures = null, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(options);
        if (basin.Count == 0) throw new ArgumentException("no command to run Basin", nameof(basin));
        var file = Path.GetFullPath(sweepFile);
        var runs = Path.GetFullPath(runsFolder);
        var tensorboard = options.TensorBoard is { } board ? Training.TensorBoardLog.CheckFolder(board) : null;
        if (!dryRun && FindOnPath("sbatch") is null)
            throw new BasinException("sbatch not found: submit from a SLURM login node (--dry-run writes the scripts without submitting)");
        var points = SweepPlan.Expand(sweep);
        using (var store = RunStore.Open(runs))
        {
            store.Sweeps.Register(sweep.Name, points);
            if (options.RetryFailed) store.Sweeps.RequeueFailed(sweep.Name);
            store.Sweeps.RequeueMissingMeasures(sweep.Name,
                Measures.MeasureRegistry.Select(sweep.Measures).Select(m => m.Name).ToArray());
        }
        var folder = Path.Combine(runs, "sweeps", sweep.Name, "slurm");
        Directory.CreateDirectory(folder);
        var workerScript = Path.Combine(folder, "workers.sbatch");
        var reportScript = Path.Combine(folder, "report.sbatch");
        var threads = options.CpusPerTask.ToString(CultureInfo.InvariantCulture);
        var workerArgs = new List<string>(basin) { "sweep", "worker", file, "--runs", runs, "--threads", threads, "--lease",
            options.Lease.Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--max-attempts",
            options.Lease.MaxAttempts.ToString(CultureInfo.InvariantCulture) };
        if (measures is not null) workerArgs.AddRange(["--measures", measures]);
        if (tensorboard is not null) workerArgs.AddRange(["--tensorboard", tensorboard]);
        IO.AtomicFile.WriteAllText(workerScript, Script(sweep.Name, $"{points.Count} points; {options.Tasks} workers pull points from "
            + "the run store until none is left", [
                $"--job-name=basin-{sweep.Name}", $"--array=0-{options.Tasks - 1}", $"--cpus-per-task={threads}",
                .. options.Time is { } t ? new[] { $"--time={t}" } : [], .. options.Gres is { } g ? new[] { $"--gres={g}" } : [],
                $"--output={folder}/worker-%A_%a.out", $"--signal=B:TERM@{WarningSeconds}",
            ], $"export OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}\n"
               + $"exec {Quote(workerArgs)} --worker \"$SLURM_ARRAY_TASK_ID\""));
        IO.AtomicFile.WriteAllText(reportScript, Script(sweep.Name, "the report, after the workers", [
                $"--job-name=basin-{sweep.Name}-report", "--cpus-per-task=1", $"--output={folder}/report-%j.out",
            ], $"exec {Quote([.. basin, "sweep", "report", file, "--runs", runs])}"));
        if (dryRun) return new SlurmSubmissionResult(sweep.Name, points.Count, workerScript, reportScript, null, null);
        var workers = Sbatch([workerScript]);
        var report = Sbatch([$"--dependency=afterany:{workers}", reportScript]);
        return new SlurmSubmissionResult(sweep.Name, points.Count, workerScript, reportScript, workers, report);
    }

    static string Script(string sweep, string what, IReadOnlyList<string> directives, string body)
    {
        var s = new StringBuilder("#!/bin/bash\n");
        s.Append(CultureInfo.InvariantCulture, $"# Written by 'basin sweep submit' for sweep {sweep}: {what}.\n");
        s.Append("# The run store is BASIN_STORE from the environment at submission (not written here: it may hold a password).\n");
        foreach (var d in directives) s.Append("#SBATCH ").Append(d).Append('\n');
        s.Append("set -euo pipefail\n").Append(body).Append('\n');
        return s.ToString();
    }

    static string Quote(IEnumerable<string> args) => string.Join(' ', args.Select(a => "'" + a.Replace("'", "'\\''") + "'"));

    /// <summary>Runs sbatch --parsable and returns the job id.</summary>
    static string Sbatch(IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--parsable");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new BasinException("could not start sbatch");
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        var id = output.Result.Trim().Split(';')[0];
        if (p.ExitCode != 0 || id.Length == 0)
            throw new BasinException($"sbatch failed (exit {p.ExitCode}): {error.Trim().Split('\n')[0]}");
        return id;
    }

    static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
