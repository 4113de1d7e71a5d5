using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Xunit;

namespace Basin.Tests.Experiments;

/// <summary>
/// What every <see cref="IRunDatabase"/> backend must do, statement by statement; a backend's test class derives from
/// this and says how to open an empty database.
/// </summary>
public abstract class RunDatabaseContract
{
    /// <summary>A new, empty database.</summary>
    protected abstract IRunDatabase OpenEmpty();

    static RunRecord Run(string id, int day) =>
        new(id, "train", new DateTime(2026, 1, day, 0, 0, 0, DateTimeKind.Utc), "mlp:4", "moons", day, $$"""{"day":{{day}}}""",
            """{"v":1}""");

    static IReadOnlyList<SweepPoint> Points(string model, int n) =>
        SweepPlan.Expand(SweepFile.Parse(
            $$"""{ "base": { "dataset": "moons", "model": "{{model}}" }, "axes": { "seed": [{{Seeds(n)}}] } }""", "s.json", "s"));

    static string Seeds(int n) => string.Join(",", Enumerable.Range(1, n));

    static readonly DateTime T0 = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>A claim at T0 with a lease of one minute and at most 3 claims.</summary>
    static PointClaim? Claim(IRunDatabase db, string sweep, string worker) => db.ClaimPoint(sweep, worker, T0, T0.AddMinutes(1), 3);

    [Fact]
    public void LeasesEndRenewAndFenceAndExhaustedPointsFail()
    {
        using var db = OpenEmpty();
        var plan = Points("mlp:4", 2);
        db.RegisterPoints("s", plan);
        string a = plan[0].Key, b = plan[1].Key;
        Assert.Equal(new PointClaim(a, null, 1), db.ClaimPoint("s", "w0", T0, T0.AddSeconds(60), 3));
        Assert.Equal(new PointClaim(b, null, 1), db.ClaimPoint("s", "w1", T0, T0.AddSeconds(60), 3));
        Assert.Null(db.ClaimPoint("s", "w2", T0.AddSeconds(59), T0.AddSeconds(119), 3));      // both leases still run
        Assert.True(db.RenewLease("s", a, "w0", T0.AddSeconds(120)));
        Assert.False(db.RenewLease("s", a, "w1", T0.AddSeconds(120)));                        // not w1's point
        Assert.Equal(T0.AddSeconds(120), db.Points("s")[0].LeaseUntil);

        // At T0+61 s w1's lease has ended: w2 takes b over (second claim); w1 can neither renew nor finish it any more.
        Assert.Equal(new PointClaim(b, null, 2), db.ClaimPoint("s", "w2", T0.AddSeconds(61), T0.AddSeconds(121), 3));
        Assert.False(db.RenewLease("s", b, "w1", T0.AddSeconds(180)));
        Assert.False(db.CompletePoint("s", b, "w1", PointStatus.Done, null));
        Assert.True(db.CompletePoint("s", b, "w2", PointStatus.Pending, "out of memory"));   // given back with its error
        Assert.Equal((PointStatus.Pending, (string?)null, (DateTime?)null, 2, "out of memory"),
            db.Points("s").Select(p => (p.Status, p.Worker, p.LeaseUntil, p.Attempts, p.Message)).Last());
        Assert.Equal(new PointClaim(b, null, 3), db.ClaimPoint("s", "w3", T0.AddSeconds(62), T0.AddSeconds(122), 3));

        // Third claim's lease ends too: with 3 claims it is not claimed again but marked failed, its last message kept.
        Assert.Equal(0, db.FailExhaustedPoints("s", T0.AddSeconds(100), 3));                 // its lease still runs
        Assert.Equal(1, db.FailExhaustedPoints("s", T0.AddSeconds(200), 3));
        var failed = db.Points("s")[1];
        Assert.Equal((PointStatus.Failed, (string?)null, "its worker stopped renewing its lease 3 times; last message: out of memory"),
            (failed.Status, failed.Worker, failed.Message));
        Assert.Equal(new PointClaim(a, null, 2), db.ClaimPoint("s", "w4", T0.AddSeconds(200), T0.AddSeconds(260), 3));
        Assert.Null(db.ClaimPoint("s", "w5", T0.AddSeconds(201), T0.AddSeconds(261), 3));
        Assert.Equal(1, db.RequeueFailedPoints("s"));                                           // a retry counts claims anew
        Assert.Equal(new PointClaim(b, null, 1), db.ClaimPoint("s", "w5", T0.AddSeconds(202), T0.AddSeconds(262), 3));
    }

    [Fact]
    public void RunsAreInsertedFinishedReopenedAndListedNewestFirst()
    {
        using var db = OpenEmpty();
        db.InsertRun(Run("a_1", 1), "running");
        db.InsertRun(Run("a%2", 2), "running");
        Assert.ThrowsAny<Exception>(() => db.InsertRun(Run("a_1", 3), "running"));
        Assert.True(db.FinishRun("a_1", "finished", new DateTime(2026, 1, 5, 0, 0, 0, DateTimeKind.Utc), """{"gap":0.5}""", "ok"));
        Assert.False(db.FinishRun("zzz", "finished", DateTime.UtcNow, null, null));

        Assert.Equal(["a%2", "a_1"], db.Runs().Select(r => r.Id));
        var a1 = db.Run("a_1")!;
        Assert.Equal(new RunRow("a_1", "train", "finished", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            new DateTime(2026, 1, 5, 0, 0, 0, DateTimeKind.Utc), "mlp:4", "moons", 1, """{"gap":0.5}""", "ok", """{"day":1}""",
            """{"v":1}"""), a1);
        Assert.Null(db.Run("a"));

        Assert.True(db.ReopenRun("a_1", "running"));
        var reopened = db.Run("a_1")!;
        Assert.Equal(("running", (DateTime?)null, (string?)null), (reopened.Status, reopened.FinishedUtc, reopened.Message));
        Assert.Equal("""{"gap":0.5}""", reopened.FinalJson);      // a resumed run keeps its last figures until it ends again
        Assert.False(db.ReopenRun("zzz", "running"));
    }

    [Fact]
    public void RunIdsMatchExactlyOrByPrefixWithWildcardsTakenLiterally()
    {
        using var db = OpenEmpty();
        foreach (var id in new[] { "ab", "abc", "a_c", "a%c", "b" }) db.InsertRun(Run(id, 1), "running");
        Assert.Equal(["a%c", "a_c", "ab"], db.RunIds("a", 3));
        Assert.Equal(["ab", "abc"], db.RunIds("ab", 3));
        Assert.Equal(["a_c"], db.RunIds("a_", 3));
        Assert.Equal(["a%c"], db.RunIds("a%", 3));
        Assert.Empty(db.RunIds("c", 3));
    }

    [Fact]
    public void EpochsAreReplacedNotDuplicatedAndReadInOrder()
    {
        using var db = OpenEmpty();
        db.InsertRun(Run("r", 1), "running");
        db.PutEpoch("r", 2, """{"e":2}""");
        db.PutEpoch("r", 1, """{"e":1}""");
        db.PutEpoch("r", 2, """{"e":2.5}""");
        Assert.Equal(["""{"e":1}""", """{"e":2.5}"""], db.Epochs("r"));
        Assert.Empty(db.Epochs("other"));
    }

    [Fact]
    public void MeasuresAreReplacedAndNaNIsStoredAsNull()
    {
        using var db = OpenEmpty();
        db.PutMeasure("r", new StoredMeasure("path-norm", "original", 1.5, 0.25, null));
        db.PutMeasure("r", new StoredMeasure("path-norm", "original", 2.5, 0.5, null));
        db.PutMeasure("r", new StoredMeasure("path-norm", "reparametrized", double.NaN, 0.75, "not defined"));
        db.PutMeasure("r", new StoredMeasure("params", "original", double.PositiveInfinity, 0, null));
        Assert.Equal(
            [
                new StoredMeasure("params", "original", double.PositiveInfinity, 0, null),
                new StoredMeasure("path-norm", "original", 2.5, 0.5, null),
                new StoredMeasure("path-norm", "reparametrized", null, 0.75, "not defined"),
            ],
            db.Measures("r"));
    }

    [Fact]
    public void ALockIsRefusedWhileItsHolderLivesTakenOverAfterAndReleasedOnlyByItsHolder()
    {
        using var db = OpenEmpty();
        var first = new LockHolder(11, "ticks:1", "h", "2026-01-01");
        var second = new LockHolder(22, "ticks:2", "h", "2026-01-02");
        Assert.True(db.CanLock);
        Assert.Null(db.TakeLock("run:x", first, _ => throw new InvalidOperationException("nobody holds it")));
        Assert.Equal(first, db.LockHolderOf("run:x"));
        Assert.Equal(first, db.TakeLock("run:x", second, h => h == first));   // the holder lives: refused, unchanged
        Assert.Equal(first, db.LockHolderOf("run:x"));
        db.ReleaseLock("run:x", second);                                      // not the holder: nothing happens
        Assert.Equal(first, db.LockHolderOf("run:x"));
        Assert.Null(db.TakeLock("run:x", second, _ => false));                // the holder is gone: taken over
        Assert.Equal(second, db.LockHolderOf("run:x"));
        db.ReleaseLock("run:x", second);
        Assert.Null(db.LockHolderOf("run:x"));
    }

    [Fact]
    public void DeletingARunRemovesItsRowsAndItsLockOnly()
    {
        using var db = OpenEmpty();
        var holder = new LockHolder(11, "ticks:1", "h", "2026-01-01");
        foreach (var id in new[] { "r", "keep" })
        {
            db.InsertRun(Run(id, 1), "finished");
            db.PutEpoch(id, 1, "{}");
            db.PutMeasure(id, new StoredMeasure("params", "original", 3, 0, null));
            db.TakeLock("run:" + id, holder, _ => false);
        }
        db.DeleteRun("r", "run:r");
        Assert.Null(db.Run("r"));
        Assert.Empty(db.Epochs("r"));
        Assert.Empty(db.Measures("r"));
        Assert.Null(db.LockHolderOf("run:r"));
        Assert.NotNull(db.Run("keep"));
        Assert.Single(db.Epochs("keep"));
        Assert.Single(db.Measures("keep"));
        Assert.Equal(holder, db.LockHolderOf("run:keep"));
    }

    [Fact]
    public void PointsAreRegisteredOnceAndAChangedSpecAddsNothing()
    {
        using var db = OpenEmpty();
        Assert.Null(db.RegisterPoints("s", Points("mlp:4", 2)));
        Assert.Null(db.RegisterPoints("s", Points("mlp:4", 3)));              // the same two plus one
        var changed = Points("mlp:5", 4);
        Assert.Equal(changed[0].Key, db.RegisterPoints("s", changed));
        var points = db.Points("s");
        Assert.Equal(Points("mlp:4", 3).Select(p => (p.Key, p.Ordinal)), points.Select(p => (p.Key, p.Ordinal)));
        Assert.All(points, p =>
            Assert.Equal((PointStatus.Pending, (string?)null, (string?)null, (string?)null), (p.Status, p.RunId, p.Worker, p.Message)));
        Assert.Equal(Points("mlp:4", 3)[2].Settings, points[2].Settings);
        Assert.Equal(["s"], db.Sweeps());
    }

    [Fact]
    public void PointsAreClaimedInOrderAndMoveBetweenStatuses()
    {
        using var db = OpenEmpty();
        var plan = Points("mlp:4", 3);
        db.RegisterPoints("s", plan);
        Assert.Equal(new PointClaim(plan[0].Key, null, 1), Claim(db, "s", "w0"));
        db.SetPointRun("s", plan[0].Key, "run0");
        Assert.Equal(new PointClaim(plan[1].Key, null, 1), Claim(db, "s", "w1"));
        Assert.Equal(new PointClaim(plan[2].Key, null, 1), Claim(db, "s", "w0"));
        Assert.Null(Claim(db, "s", "w2"));
        Assert.Null(Claim(db, "other", "w2"));
        Assert.Equal(["w0", "w1", "w0"], db.Points("s").Select(p => p.Worker));
        Assert.Equal("s", db.SweepOf("run0"));
        Assert.Null(db.SweepOf("run1"));

        Assert.True(db.SetPointStatus("s", plan[0].Key, PointStatus.Done, null));
        Assert.True(db.SetPointStatus("s", plan[1].Key, PointStatus.Failed, "diverged"));
        Assert.True(db.SetPointStatus("s", plan[2].Key, PointStatus.Running, "still"));
        Assert.False(db.SetPointStatus("s", "nope", PointStatus.Done, null));
        Assert.Equal(
            new (string, string?, string?)[]
            {
                (PointStatus.Done, null, null), (PointStatus.Failed, null, "diverged"), (PointStatus.Running, "w0", "still"),
            },
            db.Points("s").Select(p => (p.Status, p.Worker, p.Message)));

        Assert.Equal(1, db.ReleaseRunningPoints("s"));
        Assert.Equal(1, db.RequeueFailedPoints("s"));
        Assert.Equal(1, db.RequeuePoint("s", plan[0].Key));
        Assert.Equal(0, db.RequeuePoint("s", "nope"));
        Assert.Equal(
            new (string, string?, string?, string?)[]
            {
                (PointStatus.Pending, null, null, "run0"),
                (PointStatus.Pending, null, null, null),
                (PointStatus.Pending, null, "still", null),
            },
            db.Points("s").Select(p => (p.Status, p.Worker, p.Message, p.RunId)));
        Assert.Equal(new PointClaim(plan[0].Key, "run0", 1), Claim(db, "s", "w3"));   // a claim names the point's run, to resume it
    }
}

public sealed class SqliteRunDatabaseContractTests : RunDatabaseContract
{
    protected override IRunDatabase OpenEmpty() =>
        RunDatabase.Open(Path.Combine(Path.GetTempPath(), "basin-rundb-contract-" + Guid.NewGuid().ToString("N")[..12]));
}

/// <summary>The contract on a private PostgreSQL server (a new database per test).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresRunDatabaseContractTests(PostgresServer server) : RunDatabaseContract
{
    protected override IRunDatabase OpenEmpty() =>
        RunDatabase.Open(Path.Combine(Path.GetTempPath(), "basin-rundb-contract-" + Guid.NewGuid().ToString("N")[..12]),
            server.NewDatabase());
}
