using Basin.Experiments.Sweeps;

namespace Basin.Experiments;

/// <summary>
/// The run database's storage: every table (runs, epochs, run measures, locks, sweep points) and every statement that
/// reads or writes them, and nothing else. <see cref="RunStore"/> and <see cref="SweepStore"/> hold the rules (which
/// process may take a lock, what a status means, the error messages) and call only this, so another backend (a
/// database server) is one more implementation of this interface. <see cref="RunDatabase.Open"/> picks the backend.
/// Each method is atomic: one statement or one transaction.
/// </summary>
public interface IRunDatabase : IDisposable
{
    /// <summary>Where the database is, for messages (a file path; never a password).</summary>
    string Location { get; }

    /// <summary>False when locks cannot be written (a read-only database without a locks table): nothing is locked then.</summary>
    bool CanLock { get; }

    /// <summary>Adds a run with status <paramref name="status"/>; a run with the same id is an error and changes nothing.</summary>
    void InsertRun(RunRecord run, string status);

    /// <summary>Stores or replaces one epoch's metrics (JSON).</summary>
    void PutEpoch(string runId, int epoch, string metricsJson);

    /// <summary>Sets a run's outcome; false when there is no such run.</summary>
    bool FinishRun(string runId, string status, DateTime finishedUtc, string? finalJson, string? message);

    /// <summary>Sets a run's status back to <paramref name="status"/> (no end, no message); false if there is no such run.</summary>
    bool ReopenRun(string runId, string status);

    /// <summary>Every run, newest first.</summary>
    IReadOnlyList<RunRow> Runs();

    /// <summary>One run, or null.</summary>
    RunRow? Run(string runId);

    /// <summary>A run's per-epoch metrics (JSON), by epoch.</summary>
    IReadOnlyList<string> Epochs(string runId);

    /// <summary>Up to <paramref name="limit"/> run ids equal to <paramref name="idOrPrefix"/> or starting with it, in order.</summary>
    IReadOnlyList<string> RunIds(string idOrPrefix, int limit);

    /// <summary>A sweep one of whose points is trained by this run, or null.</summary>
    string? SweepOf(string runId);

    /// <summary>Removes a run's rows (run, epochs, measures) and the lock <paramref name="lockName"/>, in one transaction.</summary>
    void DeleteRun(string runId, string lockName);

    /// <summary>Stores or replaces one measure of a run (a null or NaN value is stored as null).</summary>
    void PutMeasure(string runId, StoredMeasure measure);

    /// <summary>A run's measures, by measure and variant.</summary>
    IReadOnlyList<StoredMeasure> Measures(string runId);

    /// <summary>Who holds lock <paramref name="name"/>, or null.</summary>
    LockHolder? LockHolderOf(string name);

    /// <summary>
    /// In one transaction: reads who holds lock <paramref name="name"/>; when someone does and <paramref name="refuses"/>
    /// says they still hold it, changes nothing and returns them; otherwise records <paramref name="taker"/> as holder
    /// and returns null.
    /// </summary>
    LockHolder? TakeLock(string name, LockHolder taker, Func<LockHolder, bool> refuses);

    /// <summary>Removes lock <paramref name="name"/> if <paramref name="holder"/>'s process holds it.</summary>
    void ReleaseLock(string name, LockHolder holder);

    /// <summary>
    /// In one transaction: adds the points not yet recorded as pending. When a recorded point has another training spec,
    /// adds nothing and returns its key.
    /// </summary>
    string? RegisterPoints(string sweep, IReadOnlyList<SweepPoint> points);

    /// <summary>Running points go back to pending (no worker, no lease); returns how many. For tests and repairs only: a
    /// worker elsewhere may still be training them.</summary>
    int ReleaseRunningPoints(string sweep);

    /// <summary>Failed points go back to pending (no worker, no message); returns how many.</summary>
    int RequeueFailedPoints(string sweep);

    /// <summary>One point goes back to pending (its worker and message kept); returns how many (0 or 1).</summary>
    int RequeuePoint(string sweep, string key);

    /// <summary>
    /// In one statement: the first point (by ordinal) that is pending, or running under a lease that ended before
    /// <paramref name="now"/> after fewer than <paramref name="maxAttempts"/> claims, becomes <paramref name="worker"/>'s,
    /// leased until <paramref name="leaseUntil"/>, its attempts counted; null when there is none.
    /// </summary>
    PointClaim? ClaimPoint(string sweep, string worker, DateTime now, DateTime leaseUntil, int maxAttempts);

    /// <summary>Extends <paramref name="worker"/>'s lease on a running point; false when the worker no longer holds it.</summary>
    bool RenewLease(string sweep, string key, string worker, DateTime leaseUntil);

    /// <summary>
    /// Fenced: sets a point's status and message (worker and lease cleared) only while <paramref name="worker"/> holds it
    /// (running); false otherwise, and nothing changes (its lease ended and another worker may have it).
    /// </summary>
    bool CompletePoint(string sweep, string key, string worker, string status, string? message);

    /// <summary>
    /// Running points whose lease ended before <paramref name="now"/> and that were claimed <paramref name="maxAttempts"/> times
    /// become failed, their message kept after a note; returns how many.
    /// </summary>
    int FailExhaustedPoints(string sweep, DateTime now, int maxAttempts);

    /// <summary>Records the run that trains a point.</summary>
    void SetPointRun(string sweep, string key, string runId);

    /// <summary>Sets a point's status and message (its worker is kept only while running); false when there is no such point.</summary>
    bool SetPointStatus(string sweep, string key, string status, string? message);

    /// <summary>Every point of a sweep, by ordinal.</summary>
    IReadOnlyList<PointRecord> Points(string sweep);

    /// <summary>Names of the sweeps with points, in order.</summary>
    IReadOnlyList<string> Sweeps();
}

/// <summary>A run's row as stored; <see cref="RunStore"/> adds its labels and its true status.</summary>
public sealed record RunRow(string Id, string Kind, string Status, DateTime CreatedUtc, DateTime? FinishedUtc, string? Model,
    string? Dataset, long Seed, string? FinalJson, string? Message, string ConfigJson, string VersionsJson);

/// <summary>
/// The process holding a lock: its id, its start time (to tell it from a later process with the same id), its host,
/// and since when (UTC, ISO 8601).
/// </summary>
public sealed record LockHolder(long Pid, string ProcessStart, string Host, string AcquiredUtc);
