using Basin.IO;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;

namespace Basin.Experiments;

/// <summary>
/// A sweep point as recorded: status pending, running, done or failed; the run that trains it; the worker holding it and
/// until when (UTC); how many times it was claimed; a message.
/// </summary>
public sealed record PointRecord(string Key, int Ordinal, IReadOnlyDictionary<string, string> Settings, string Status, string? RunId,
    string? Worker, string? Message, DateTime? LeaseUntil = null, int Attempts = 0);

/// <summary>A point a worker has claimed: its run, if it has one (to resume), and which claim this is (1 the first).</summary>
public sealed record PointClaim(string Key, string? RunId, int Attempt);

public static class PointStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// The sweeps of a run database: one row per sweep point (status, the run that trains it, which worker holds it and
/// until when). Workers on any number of machines claim points at once; a claim is one atomic statement, so two workers
/// never get the same point. A claim is a lease that the worker renews while it works; a point whose lease ended (its
/// worker died) is claimed again and resumes from its checkpoint, and after <see cref="SweepLease.MaxAttempts"/> claims
/// it is marked failed. A worker can finish only a point it still holds (fencing). The measures of a point's run are
/// the run's (<see cref="RunStore.Measures"/>).
/// </summary>
public sealed class SweepStore : IDisposable
{
    readonly IRunDatabase _db;
    readonly bool _ownsDatabase;

    /// <summary>The sweeps of <paramref name="database"/>; the database stays the caller's.</summary>
    public SweepStore(IRunDatabase database) : this(database, ownsDatabase: false) { }

    SweepStore(IRunDatabase database, bool ownsDatabase)
    {
        _db = database;
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>The database this store reads and writes.</summary>
    public IRunDatabase Database => _db;

    /// <summary>Opens the run database in <paramref name="folder"/> for its sweeps (<see cref="RunDatabase.Open"/>).</summary>
    public static SweepStore Open(string folder) => new(RunDatabase.Open(folder), ownsDatabase: true);

    /// <summary>
    /// Records the sweep's points (new ones as pending). A point already recorded with a different training spec is an
    /// error: the sweep file changed under the same name, and its finished models would not match the file.
    /// </summary>
    public void Register(string sweep, IReadOnlyList<SweepPoint> points)
    {
        if (_db.RegisterPoints(sweep, points) is { } key)
            throw new BasinException($"sweep '{sweep}' is already in this run database with other settings for point {key} (the sweep file "
                + "changed); give the sweep a new name or use another --runs folder");
    }

    /// <summary>
    /// Points held by a worker process of this host that has ended (killed) go back to pending at once, without waiting for
    /// their lease; points held elsewhere are left to their leases. Returns how many.
    /// </summary>
    public int ReleaseGoneWorkers(string sweep)
    {
        int released = 0;
        foreach (var p in Points(sweep).Where(p => p.Status == PointStatus.Running && RunStore.WorkerGone(p.Worker)))
            if (_db.CompletePoint(sweep, p.Key, p.Worker!, PointStatus.Pending, p.Message)) released++;
        return released;
    }

    /// <summary>Failed points go back to pending, to be tried again (their message is cleared; their run, if any, is resumed).</summary>
    public int RequeueFailed(string sweep) => _db.RequeueFailedPoints(sweep);

    /// <summary>Finished points whose run lacks one of <paramref name="measures"/> (in either variant) go back to pending.</summary>
    public int RequeueMissingMeasures(string sweep, IReadOnlyList<string> measures)
    {
        int requeued = 0;
        foreach (var p in Points(sweep).Where(p => p.Status == PointStatus.Done && p.RunId is not null))
        {
            var have = _db.Measures(p.RunId!).Select(m => (m.Measure, m.Variant)).ToHashSet();
            if (measures.Any(m => !have.Contains((m, RunStore.OriginalVariant)) || !have.Contains((m, RunStore.ReparametrizedVariant))))
                requeued += _db.RequeuePoint(sweep, p.Key);
        }
        return requeued;
    }

    /// <summary>
    /// Atomically takes for <paramref name="worker"/> the first point of <paramref name="sweep"/> that is pending or whose lease
    /// ended, leased for <see cref="SweepLease.Duration"/>; points whose leases ended <see cref="SweepLease.MaxAttempts"/>
    /// times are marked failed first. Null when no point can be taken.
    /// </summary>
    public PointClaim? Claim(string sweep, string worker, SweepLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var now = DateTime.UtcNow;
        _db.FailExhaustedPoints(sweep, now, lease.MaxAttempts);
        return _db.ClaimPoint(sweep, worker, now, now + lease.Duration, lease.MaxAttempts);
    }

    /// <summary>Extends <paramref name="worker"/>'s lease on a point; false when it no longer holds the point.</summary>
    public bool Renew(string sweep, string key, string worker, SweepLease lease) =>
        _db.RenewLease(sweep, key, worker, DateTime.UtcNow + lease.Duration);

    /// <summary>Marks a point <paramref name="worker"/> holds done, failed or pending again; false when it no longer holds it.</summary>
    public bool Complete(string sweep, string key, string worker, string status, string? message = null) =>
        _db.CompletePoint(sweep, key, worker, status, message);

    public void SetRun(string sweep, string key, string runId) => _db.SetPointRun(sweep, key, runId);

    /// <summary>Marks a point done or failed (with a message), or gives it back as pending.</summary>
    public void SetStatus(string sweep, string key, string status, string? message = null)
    {
        if (!_db.SetPointStatus(sweep, key, status, message)) throw new BasinException($"sweep '{sweep}' has no point {key}");
    }

    /// <summary>Every recorded point of a sweep, in plan order.</summary>
    public IReadOnlyList<PointRecord> Points(string sweep) => _db.Points(sweep);

    /// <summary>Names of the sweeps recorded in the database.</summary>
    public IReadOnlyList<string> Sweeps() => _db.Sweeps();

    public void Dispose()
    {
        if (_ownsDatabase) _db.Dispose();
    }
}
