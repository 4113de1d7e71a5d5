using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Diagnostics;
using TorchSharp;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// A worker: claims pending points of a sweep one at a time and completes them (<see cref="SweepPointJob"/>), until
/// none is left or it is cancelled. Any number of workers, in any processes, may run on one run database at once.
/// A diverged run marks its point failed (it would diverge again); any other error gives the point back and stops
/// the worker; cancellation gives the point back after its checkpoint is written.
/// </summary>
public static class SweepWorker
{
    /// <returns>The number of points this worker finished.</returns>
    public static int Run(SweepDefinition sweep, string runsFolder, string worker, int? threads, IProgress<SweepEvent>? progress = null,
        CancellationToken ct = default)
    {
        var points = SweepPlan.Expand(sweep).ToDictionary(p => p.Key);
        using var runs = RunStore.Open(runsFolder);
        var store = runs.Sweeps;
        int before = torch.get_num_threads();
        if (threads is { } t) torch.set_num_threads(t);
        int finished = 0;
        try
        {
            while (!ct.IsCancellationRequested && store.Claim(sweep.Name, worker) is { } claim)
            {
                if (!points.TryGetValue(claim.Key, out var point))
                {
                    store.SetStatus(sweep.Name, claim.Key, PointStatus.Failed, "not a point of the current sweep file");
                    continue;
                }
                var clock = Stopwatch.StartNew();
                progress?.Report(new PointStarted(point.Key, worker, claim.RunId is not null));
                try
                {
                    SweepPointJob.Run(sweep, point, claim.RunId, runs, store, worker, threads, progress, ct);
                    store.SetStatus(sweep.Name, point.Key, PointStatus.Done);
                    progress?.Report(new PointFinished(point.Key, PointStatus.Done, clock.Elapsed.TotalSeconds, null));
                    finished++;
                }
                catch (DivergenceException e)
                {
                    store.SetStatus(sweep.Name, point.Key, PointStatus.Failed, e.Message);
                    progress?.Report(new PointFinished(point.Key, PointStatus.Failed, clock.Elapsed.TotalSeconds, e.Message));
                    finished++;
                }
                catch (OperationCanceledException e)
                {
                    store.SetStatus(sweep.Name, point.Key, PointStatus.Pending);
                    throw new OperationCanceledException($"sweep '{sweep.Name}' cancelled during point {point.Key}; run 'basin sweep " +
                        "run' with the same file again to continue", e, e.CancellationToken);
                }
                catch
                {
                    store.SetStatus(sweep.Name, point.Key, PointStatus.Pending);
                    throw;
                }
            }
            ct.ThrowIfCancellationRequested();
            return finished;
        }
        finally
        {
            if (threads is not null) torch.set_num_threads(before);
        }
    }
}
