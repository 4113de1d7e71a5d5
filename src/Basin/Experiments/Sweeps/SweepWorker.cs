using System.Diagnostics;
using Basin.Experiments.Training;
using TorchSharp;

namespace Basin.Experiments.Sweeps;

/// <summary>How a <see cref="SweepWorker"/> works: its lease, and whether it waits for points other workers hold.</summary>
public sealed record SweepWorkerOptions
{
    public SweepLease Lease { get; init; } = SweepLease.Default;

    /// <summary>
    /// When no point can be claimed but other workers still hold some, wait (polling) instead of stopping, so a point
    /// whose worker dies is taken over when its lease ends. Workers started by a cluster's launcher wait; a sweep run in
    /// one process does not.
    /// </summary>
    public bool WaitForOthers { get; init; }

    /// <summary>A folder for TensorBoard: each point's training is logged into FOLDER/RUN-ID (<see cref="TensorBoardLog"/>).</summary>
    public string? TensorBoard { get; init; }
}

/// <summary>
/// A worker: claims points of a sweep one at a time, holds a lease on each while it completes it
/// (<see cref="SweepPointJob"/>), until none is left or it is cancelled. Any number of workers, in any processes on any
/// machines, may run on one run database at once. A diverged run marks its point failed (it would diverge again); any
/// other error gives the point back and stops the worker; cancellation (Ctrl+C, SIGTERM) gives the point back after its
/// checkpoint is written; a lost lease (the point was taken over) stops work on that point and goes on with the next.
/// </summary>
public static class SweepWorker
{
    /// <summary>Longest wait between two looks at the sweep while other workers hold the remaining points.</summary>
    static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(10);

    /// <returns>The number of points this worker finished.</returns>
    public static int Run(SweepDefinition sweep, string runsFolder, string worker, int? threads, IProgress<SweepEvent>? progress = null,
        CancellationToken ct = default, SweepWorkerOptions? options = null)
    {
        options ??= new SweepWorkerOptions();
        var lease = options.Lease;
        var tensorboard = options.TensorBoard is { } board ? TensorBoardLog.CheckFolder(board) : null;
        var points = SweepPlan.Expand(sweep).ToDictionary(p => p.Key);
        using var runs = RunStore.Open(runsFolder);
        var store = runs.Sweeps;
        int before = torch.get_num_threads();
        if (threads is { } t) torch.set_num_threads(t);
        int finished = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (store.Claim(sweep.Name, worker, lease) is not { } claim)
                {
                    if (!options.WaitForOthers || !store.Points(sweep.Name).Any(p => p.Status == PointStatus.Running)) break;
                    var poll = lease.RenewEvery < MaxPoll ? lease.RenewEvery : MaxPoll;
                    ct.WaitHandle.WaitOne(poll);
                    continue;
                }
                if (!points.TryGetValue(claim.Key, out var point))
                {
                    store.Complete(sweep.Name, claim.Key, worker, PointStatus.Failed, "not a point of the current sweep file");
                    continue;
                }
                if (claim.Attempt > 1 && claim.RunId is not null) runs.TakeOverRun(claim.RunId);
                if (Work(sweep, point, claim, runs, store, runsFolder, worker, threads, lease, tensorboard, progress, ct)) finished++;
            }
            ct.ThrowIfCancellationRequested();
            return finished;
        }
        finally
        {
            if (threads is not null) torch.set_num_threads(before);
        }
    }

    /// <returns>True when the point ended done or failed by this worker.</returns>
    static bool Work(SweepDefinition sweep, SweepPoint point, PointClaim claim, RunStore runs, SweepStore store, string runsFolder,
        string worker, int? threads, SweepLease lease, string? tensorboard, IProgress<SweepEvent>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        progress?.Report(new PointStarted(point.Key, worker, claim.RunId is not null));
        using var keeper = new LeaseKeeper(runsFolder, sweep.Name, point.Key, worker, lease, ct);
        try
        {
            SweepPointJob.Run(sweep, point, claim.RunId, runs, store, worker, threads, progress, keeper.Token, tensorboard);
            return Complete(store, sweep, point, worker, PointStatus.Done, null, clock, progress);
        }
        catch (DivergenceException e)
        {
            return Complete(store, sweep, point, worker, PointStatus.Failed, e.Message, clock, progress);
        }
        catch (OperationCanceledException) when (keeper.Lost && !ct.IsCancellationRequested)
        {
            progress?.Report(new PointFinished(point.Key, PointStatus.Running, clock.Elapsed.TotalSeconds,
                "its lease ended and another worker took it over; this worker stopped working on it"));
            return false;
        }
        catch (OperationCanceledException e)
        {
            store.Complete(sweep.Name, point.Key, worker, PointStatus.Pending);
            throw new OperationCanceledException($"sweep '{sweep.Name}' cancelled during point {point.Key}; run the sweep again to "
                + "continue", e, e.CancellationToken);
        }
        catch (Exception e)
        {
            store.Complete(sweep.Name, point.Key, worker, PointStatus.Pending, e.Message);
            throw;
        }
    }

    static bool Complete(SweepStore store, SweepDefinition sweep, SweepPoint point, string worker, string status, string? message,
        Stopwatch clock, IProgress<SweepEvent>? progress)
    {
        bool held = store.Complete(sweep.Name, point.Key, worker, status, message);
        progress?.Report(new PointFinished(point.Key, held ? status : PointStatus.Running, clock.Elapsed.TotalSeconds,
            held ? message : "finished, but its lease had ended and another worker holds it: that worker records it"));
        return held;
    }
}
