using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.IO;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Experiments;

public class RunDatabaseTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-rundb-" + Guid.NewGuid().ToString("N")[..12]);

    static readonly string[] AllTables = ["epochs", "locks", "run_measures", "runs", "sweep_points"];

    /// <summary>A connection that is not the database's own (Pooling off, so the file is closed when it is disposed).</summary>
    static SqliteConnection Raw(string folder)
    {
        var db = new SqliteConnection($"Data Source={Path.Combine(folder, RunDatabase.FileName)};Pooling=False");
        db.Open();
        return db;
    }

    static object? Scalar(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static string[] Tables(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;";
        using var r = cmd.ExecuteReader();
        var names = new List<string>();
        while (r.Read()) names.Add(r.GetString(0));
        return [.. names];
    }

    static IReadOnlyList<SweepPoint> Points(int n) =>
        SweepPlan.Expand(SweepFile.Parse(
            $$"""{ "base": { "dataset": "moons", "model": "mlp:4" }, "axes": { "seed": [{{string.Join(",", Enumerable.Range(1, n))}}] } }""",
            "s.json", "s"));

    [Fact]
    public void OneSchemaVersionCoversTheRunAndTheSweepTables()
    {
        Assert.Equal(3, RunDatabase.SchemaVersion);
        foreach (var open in new Func<string, IDisposable>[] { RunStore.Open, SweepStore.Open, f => RunDatabase.Open(f) })
        {
            var folder = TempFolder();
            using (open(folder)) { }
            using var db = Raw(folder);
            Assert.Equal(3L, Scalar(db, "PRAGMA user_version;"));
            Assert.Equal(AllTables, Tables(db));     // whichever façade opens it first, every table is there
        }
    }

    [Fact]
    public void ADatabaseOfANewerSchemaIsRefusedInOneLineAndLeftUntouched()
    {
        var folder = TempFolder();
        Directory.CreateDirectory(folder);
        using (var db = Raw(folder)) Exec(db, "PRAGMA user_version = 4;");
        var path = Path.Combine(folder, RunDatabase.FileName);
        var before = File.ReadAllBytes(path);
        foreach (var open in new Func<string, IDisposable>[] { RunStore.Open, SweepStore.Open, f => RunDatabase.Open(f) })
        {
            var e = Assert.Throws<BasinException>(() => open(folder));
            Assert.Equal(
                $"{path} was written by a newer Basin (schema 4, this Basin reads up to 3); upgrade Basin or use another --runs folder",
                e.Message);
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>
    /// The tables exactly as the two former wrappers wrote them (schema 1): RunStore created runs and epochs under
    /// user_version 1 and added locks in place; SweepStore added sweep_points and run_measures in place.
    /// </summary>
    const string FormerRunTables = """
        CREATE TABLE IF NOT EXISTS runs (
          id            TEXT PRIMARY KEY,
          kind          TEXT NOT NULL,
          status        TEXT NOT NULL,
          created_utc   TEXT NOT NULL,
          finished_utc  TEXT,
          model         TEXT,
          dataset       TEXT,
          seed          INTEGER,
          config_json   TEXT NOT NULL,
          versions_json TEXT NOT NULL,
          final_json    TEXT,
          message       TEXT
        );
        CREATE TABLE IF NOT EXISTS epochs (
          run_id        TEXT NOT NULL REFERENCES runs(id),
          epoch         INTEGER NOT NULL,
          metrics_json  TEXT NOT NULL,
          PRIMARY KEY (run_id, epoch)
        );
        PRAGMA user_version = 1;
        """;

    const string FormerLocksAndSweepTables = """
        CREATE TABLE IF NOT EXISTS locks (
          name          TEXT PRIMARY KEY,
          pid           INTEGER NOT NULL,
          process_start TEXT NOT NULL,
          host          TEXT NOT NULL,
          acquired_utc  TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sweep_points (
          sweep         TEXT NOT NULL,
          point_key     TEXT NOT NULL,
          ordinal       INTEGER NOT NULL,
          settings_json TEXT NOT NULL,
          spec_json     TEXT NOT NULL,
          status        TEXT NOT NULL,
          run_id        TEXT,
          worker        TEXT,
          updated_utc   TEXT NOT NULL,
          message       TEXT,
          PRIMARY KEY (sweep, point_key)
        );
        CREATE TABLE IF NOT EXISTS run_measures (
          run_id   TEXT NOT NULL,
          variant  TEXT NOT NULL,
          measure  TEXT NOT NULL,
          value    REAL,
          seconds  REAL NOT NULL,
          message  TEXT,
          PRIMARY KEY (run_id, variant, measure)
        );
        """;

    [Fact]
    public void ADatabaseWrittenBySchema1OpensIsMigratedAndReadsBack()
    {
        var folder = TempFolder();
        Directory.CreateDirectory(folder);
        using (var db = Raw(folder))
        {
            Exec(db, FormerRunTables);
            Exec(db, FormerLocksAndSweepTables);
            Exec(db, $$"""
                INSERT INTO runs VALUES ('20260101-000000-aaaa', 'train', 'finished', '2026-01-01T00:00:00.0000000Z',
                  '2026-01-01T00:05:00.0000000Z',
                  'mlp:4', 'moons', 1, '{"method":"sam","tags":["old"]}', '{"torchsharp":"0.107.0"}', '{"accuracyGap":0.125}', NULL);
                INSERT INTO runs VALUES ('20260102-000000-bbbb', 'train', 'running', '2026-01-02T00:00:00.0000000Z', NULL,
                  'mlp:4', 'moons', 2, '{"method":"sgd"}', '{}', NULL, NULL);
                INSERT INTO epochs VALUES ('20260101-000000-aaaa', 1, '{"epoch":1,"trainLoss":0.5}');
                INSERT INTO epochs VALUES ('20260101-000000-aaaa', 2, '{"epoch":2,"trainLoss":0.25}');
                INSERT INTO locks VALUES ('run:20260102-000000-bbbb', {{int.MaxValue}}, 'ticks:1', '{{Environment.MachineName}}',
                  '2026-01-02T00:00:00Z');
                INSERT INTO sweep_points VALUES ('grid', 'seed=1', 0, '{"seed":"1"}', '{"seed":1}', 'done',
                  '20260101-000000-aaaa', NULL, '2026-01-01', NULL);
                INSERT INTO sweep_points VALUES ('grid', 'seed=2', 1, '{"seed":"2"}', '{"seed":2}', 'failed',
                  '20260102-000000-bbbb', NULL, '2026-01-02', 'diverged');
                INSERT INTO run_measures VALUES ('20260101-000000-aaaa', 'original', 'path-norm', 3.5, 0.25, NULL);
                INSERT INTO run_measures VALUES ('20260101-000000-aaaa', 'reparametrized', 'path-norm', NULL, 0.5, 'not defined');
                """);
            Assert.Equal("delete", Scalar(db, "PRAGMA journal_mode;"));
        }

        using (var store = RunStore.Open(folder))
        {
            var list = store.List();
            Assert.Equal(["20260102-000000-bbbb", "20260101-000000-aaaa"], list.Select(r => r.Id));
            Assert.Equal(RunStatus.Interrupted, list[0].Status);         // its lock's process is gone
            Assert.Equal("sam", list[1].Method);
            Assert.Equal(["old"], list[1].Tags);
            var run = store.Get("20260101");
            Assert.Equal(0.125, run.Summary.Final!.Value.GetProperty("accuracyGap").GetDouble());
            Assert.Equal([0.5, 0.25], run.Epochs.Select(e => e.GetProperty("trainLoss").GetDouble()));
            Assert.Equal("0.107.0", run.Versions.GetProperty("torchsharp").GetString());
            Assert.Equal(new DateTime(2026, 1, 1, 0, 5, 0, DateTimeKind.Utc), run.Summary.FinishedUtc);

            var measures = store.Measures("20260101-000000-aaaa");
            Assert.Equal(
                [("path-norm", "original", (double?)3.5, 0.25, (string?)null), ("path-norm", "reparametrized", null, 0.5, "not defined")],
                measures.Select(m => (m.Measure, m.Variant, m.Value, m.Seconds, m.Message)));

            var points = store.Sweeps.Points("grid");
            Assert.Equal(["seed=1", "seed=2"], points.Select(p => p.Key));
            Assert.Equal([PointStatus.Done, PointStatus.Failed], points.Select(p => p.Status));
            Assert.Equal("2", points[1].Settings["seed"]);
            Assert.Equal("diverged", points[1].Message);
            Assert.Equal([(null, 0), (null, 0)], points.Select(p => (p.LeaseUntil, p.Attempts)));   // schema 3's lease columns
            Assert.Equal(1, store.Sweeps.RequeueFailed("grid"));          // --retry-failed still works on the old rows

            store.LockRun("20260102-000000-bbbb");                        // the dead process's lock is taken over
            Assert.Equal(RunStatus.Running, store.Get("20260102-000000-bbbb").Summary.Status);
        }
        using (var db = Raw(folder))
        {
            Assert.Equal((long)RunDatabase.SchemaVersion, Scalar(db, "PRAGMA user_version;"));
            Assert.Equal("wal", Scalar(db, "PRAGMA journal_mode;"));
            Assert.Equal(0L, Scalar(db, "SELECT count(*) FROM locks;"));   // released when the store was disposed
        }
    }

    [Fact]
    public void ASchema1DatabaseWithOnlyRunTablesGainsTheOthers()
    {
        var folder = TempFolder();
        Directory.CreateDirectory(folder);
        using (var db = Raw(folder))
        {
            Exec(db, FormerRunTables);
            Exec(db, """
                INSERT INTO runs VALUES ('r1', 'gan', 'finished', '2026-01-01T00:00:00.0000000Z', NULL, 'g / c', '8gaussians', 3,
                  '{}', '{}', NULL, NULL);
                """);
        }
        using (var store = SweepStore.Open(folder)) store.Register("s", Points(2));
        using var db2 = Raw(folder);
        Assert.Equal(AllTables, Tables(db2));
        Assert.Equal((long)RunDatabase.SchemaVersion, Scalar(db2, "PRAGMA user_version;"));
        using var runs = RunStore.Open(folder);
        Assert.Equal("gan", runs.List().Single().Method);
        Assert.Equal(2, runs.Sweeps.Points("s").Count);
    }

    [Fact]
    public void EveryConnectionGetsTheOnePolicy()
    {
        var folder = TempFolder();
        using var runs = RunStore.Open(folder);
        using var sweeps = SweepStore.Open(folder);
        using var direct = RunDatabase.Open(folder);
        foreach (var database in new[] { runs.Database, runs.Sweeps.Database, sweeps.Database, direct })
        {
            var sqlite = Assert.IsType<SqliteRunDatabase>(database);
            Assert.Equal(("wal", 60_000L, false), sqlite.Pragmas());
        }
        Assert.Same(runs.Database, runs.Sweeps.Database);                // one connection for the runs and sweeps of a process
        Assert.NotSame(runs.Database, sweeps.Database);
    }
}
