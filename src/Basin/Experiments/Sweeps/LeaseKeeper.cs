namespace Basin.Experiments.Sweeps;

/// <summary>
/// Renews a worker's lease on one sweep point every <see cref="SweepLease.RenewEvery"/> while the point is worked on, on a
/// connection of its own (a run database connection belongs to one thread). When a renewal finds the point held by
/// someone else (the lease had ended), <see cref="Token"/> is cancelled so the work stops, and <see cref="Lost"/> is set.
/// A failed renewal (the server unreachable) is retried at the next tick; the lease ends if none succeeds in time.
/// </summary>
public sealed class LeaseKeeper : IDisposable
{
    readonly CancellationTokenSource _cts;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    volatile bool _lost;

    public LeaseKeeper(string runsFolder, string sweep, string key, string worker, SweepLease lease, CancellationToken outer)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _loop = Task.Run(() => Loop(runsFolder, sweep, key, worker, lease));
    }

    /// <summary>Cancelled when the worker is cancelled or the lease is lost.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>True once a renewal found that this worker no longer holds the point.</summary>
    public bool Lost => _lost;

    async Task Loop(string runsFolder, string sweep, string key, string worker, SweepLease lease)
    {
        IRunDatabase? db = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                try { await Task.Delay(lease.RenewEvery, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                try
                {
                    db ??= RunDatabase.Open(runsFolder);
                    if (!db.RenewLease(sweep, key, worker, DateTime.UtcNow + lease.Duration))
                    {
                        _lost = true;
                        _cts.Cancel();
                        return;
                    }
                }
                catch (Exception e) when (e is BasinException or System.Data.Common.DbException or IOException or TimeoutException)
                {
                    db?.Dispose();   // reconnect at the next tick
                    db = null;
                }
            }
        }
        finally
        {
            db?.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _loop.Wait(); } catch (AggregateException) { }
        _stop.Dispose();
        _cts.Dispose();
    }
}
