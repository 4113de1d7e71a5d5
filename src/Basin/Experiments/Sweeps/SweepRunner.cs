using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Diagnostics;

namespace Basin.Experiments.Sweeps;

/// <summary>How <see cref="SweepRunner"/> runs a sweep.</summary>
public sealed record SweepRunOptions
{
    /// <summary>Worker processes; 1 runs the single worker in this process.</summary>
    public int Workers { get; init; } = 1;
    /// <summary>Threads per worker (null: cores / workers, at least 1).</summary>
    public int? ThreadsPerWorker { get; init; }
    /// <summary>Give failed points another try (a diverged run continues from its last checkpoint).</summary>
    public bool RetryFailed { get; init; }
    /// <summary>A folder for TensorBoard: each point's training is logged into FOLDER/RUN-ID (<see cref="TensorBoardLog"/>); worker
    /// processes must be started with it too (the CLI's launcher passes it on).</summary>
    public string? TensorBoard { get; init; }
}

/// <summary>What a sweep run did: points in the sweep, finished before, finished now, failed (all time) and still open.</summary>
public sealed record SweepRunResult(string Sweep, int Total, int FinishedBefore, int FinishedNow, int Failed, int Open, double Seconds);

/// <summary>Starts worker process <paramref name="index"/> (0-based) with <paramref name="threads"/> threads; its stdin must be
/// redirected.</summary>
public delegate Process WorkerLauncher(int index, int threads);

/// <summary>
/// Runs a sweep to completion: records its points, gives back points that a killed run left "running", re-queues
/// finished points that lack a requested measure, then lets the workers take the rest. With one worker it works in
/// this process; with more it starts worker processes (through <see cref="WorkerLauncher"/>, e.g. the CLI's hidden
/// `basin sweep worker`) that share the run database. Workers watch their stdin: when this process ends or is
/// cancelled it closes them, and they stop after writing their checkpoints, so rerunning resumes every point.
/// Only one coordinator per sweep and run database may run at a time.
/// </summary>
public static class SweepRunner
{
    /// <summary>
    /// The environment a worker process needs from its first instruction: libtorch's OpenMP and MKL pools sized to
    /// <paramref name="threads"/> (otherwise they start with one thread per core and spin beside the other workers until
    /// the worker sets its thread count), and Basin's malloc tunables (<see cref="Native.MallocTunables"/>).
    /// </summary>
    public static void PrepareWorkerEnvironment(ProcessStartInfo psi, int threads)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var count = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["OMP_NUM_THREADS"] = count;
        psi.Environment["MKL_NUM_THREADS"] = count;
        psi.Environment[Native.MallocTunables.Variable] = Native.MallocTunables.ForChild();
    }

    public static SweepRunResult Run(SweepDefinition sweep, string runsFolder, SweepRunOptions options, WorkerLauncher? launcher = null,
        IProgress<SweepEvent>? progress = null, CancellationToken ct = default)
    {
        if (options.Workers < 1) throw new BasinException($"--workers must be at least 1, got {options.Workers}");
        if (options.ThreadsPerWorker is < 1) throw new BasinException("threads per worker must be at least 1, got " +
            $"{options.ThreadsPerWorker}");
        if (options.Workers > 1 && launcher is null) throw new BasinException("more than one worker needs a way to start worker processes");
        var tensorboard = options.TensorBoard is { } board ? TensorBoardLog.CheckFolder(board) : null;
        int threads = options.ThreadsPerWorker ?? Math.Max(1, Environment.ProcessorCount / options.Workers);
        // One coordinator per sweep and database: a second one is refused while the first runs (its lock dies with it).
        using var coordinator = RunStore.Open(runsFolder);
        coordinator.Lock("sweep:" + sweep.Name, $"sweep '{sweep.Name}' (another 'basin sweep run')");
        var points = SweepPlan.Expand(sweep);
        var clock = Stopwatch.StartNew();
        var store = coordinator.Sweeps;
        store.Register(sweep.Name, points);
        store.ReleaseGoneWorkers(sweep.Name);   // this host's killed workers; points held elsewhere keep their leases
        if (options.RetryFailed) store.RequeueFailed(sweep.Name);
        store.RequeueMissingMeasures(sweep.Name, Measures.MeasureRegistry.Select(sweep.Measures).Select(m => m.Name).ToArray());
        int before = Count(store, sweep, points, PointStatus.Done) + Count(store, sweep, points, PointStatus.Failed);
        progress?.Report(new SweepStarted(sweep.Name, points.Count, before, options.Workers, threads));

        if (options.Workers == 1)
            SweepWorker.Run(sweep, runsFolder, RunStore.WorkerName("worker-0"), threads, progress, ct,
                new SweepWorkerOptions { TensorBoard = tensorboard });
        else RunProcesses(options.Workers, threads, launcher!, progress, ct);

        int done = Count(store, sweep, points, PointStatus.Done), failed = Count(store, sweep, points, PointStatus.Failed);
        return new SweepRunResult(sweep.Name, points.Count, before, done + failed - before, failed, points.Count - done - failed,
            clock.Elapsed.TotalSeconds);
    }

    static int Count(SweepStore store, SweepDefinition sweep, IReadOnlyList<SweepPoint> points, string status)
    {
        var keys = points.Select(p => p.Key).ToHashSet();
        return store.Points(sweep.Name).Count(p => keys.Contains(p.Key) && p.Status == status);
    }

    static void RunProcesses(int workers, int threads, WorkerLauncher launcher, IProgress<SweepEvent>? progress, CancellationToken ct)
    {
        var processes = new List<Process>();
        var errors = new string?[workers];
        try
        {
            for (int i = 0; i < workers; i++)
            {
                int index = i;
                var p = launcher(index, threads);
                processes.Add(p);
                p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) progress?.Report(new WorkerOutput(index, line)); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) errors[index] = line; };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
            }
            using var registration = ct.Register(() => { foreach (var p in processes) TryCloseInput(p); });
            foreach (var p in processes) p.WaitForExit();
        }
        finally
        {
            foreach (var p in processes) TryCloseInput(p);
            foreach (var p in processes) { p.WaitForExit(); }
        }
        ct.ThrowIfCancellationRequested();
        var failures = processes.Select((p, i) => (p.ExitCode, Error: errors[i], Index: i)).Where(f => f.ExitCode != 0).ToArray();
        foreach (var p in processes) p.Dispose();
        if (failures.Length > 0)
        {
            var f = failures[0];
            throw new BasinException($"sweep worker {f.Index} failed (exit {f.ExitCode}): {f.Error ?? "no message"}; finished points are " +
                "kept, rerun to continue");
        }
    }

    static void TryCloseInput(Process p)
    {
        try { if (!p.HasExited) p.StandardInput.Close(); }
        catch (Exception e) when (e is InvalidOperationException or IOException) { }
    }
}
