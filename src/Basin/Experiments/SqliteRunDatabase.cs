using Basin.IO;
using Basin.Experiments.Sweeps;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using static Basin.Experiments.StoredText;

namespace Basin.Experiments;

/// <summary>
/// The run database as one SQLite file, for one machine: the only place that opens a connection to it, sets its
/// pragmas, creates and migrates its tables and holds their SQL. Several processes (sweep workers) write at once, so
/// every connection gets the same policy (<see cref="Connect"/>): write-ahead logging, so readers never block the
/// writer; a 60 s wait for a lock, both in SQLite's busy handler and in the command timeout; no pooled connections;
/// foreign keys not enforced (SQLite's default, as before the tables had one owner). WAL must not be used on a
/// network file system, so one database serves the processes of one machine.
/// </summary>
public sealed class SqliteRunDatabase : IRunDatabase
{
    /// <summary>How long a statement waits for another process's write lock before failing.</summary>
    public const int BusyTimeoutSeconds = 60;

    readonly SqliteConnection _db;
    readonly HashSet<string> _tables;

    SqliteRunDatabase(SqliteConnection db, string path, HashSet<string> tables)
    {
        _db = db;
        Location = path;
        _tables = tables;
    }

    public string Location { get; }

    public bool CanLock => _tables.Contains("locks");

    /// <summary>The one connection policy (see the class summary): every connection to a run database is made here.</summary>
    static SqliteConnection Connect(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
            ForeignKeys = false,
        }.ToString());
        db.Open();
        Exec(db, $"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};");
        return db;
    }

    /// <summary>
    /// Opens (creating if needed) RUNS/basin.db: refuses one from a newer Basin before changing anything, puts it in WAL
    /// mode and brings an older schema up to <see cref="RunDatabase.SchemaVersion"/>. A read-only database of an older
    /// schema is read as it is.
    /// </summary>
    public static SqliteRunDatabase Open(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, RunDatabase.FileName);
        SqliteConnection? db = null;
        try
        {
            db = Connect(path);
            int version = Convert.ToInt32(Scalar(db, "PRAGMA user_version;"), CultureInfo.InvariantCulture);
            if (version > RunDatabase.SchemaVersion)
                throw new BasinException($"{path} was written by a newer Basin (schema {version}, this Basin reads up to "
                    + $"{RunDatabase.SchemaVersion}); upgrade Basin or use another --runs folder");
            TryWrite(() => Exec(db, "PRAGMA journal_mode = WAL;"));
            if (version < RunDatabase.SchemaVersion && !TryWrite(() => Migrate(db)) && version == 0)
                throw new BasinException($"{path} is a new run database in a read-only place; give a writable --runs folder");
            return new SqliteRunDatabase(db, Path.GetFullPath(path), Tables(db));
        }
        catch (SqliteException e)
        {
            db?.Dispose();
            throw new DataFormatException($"{path} is not a usable Basin run database: {e.Message}", e);
        }
        catch
        {
            db?.Dispose();
            throw;
        }
    }

    /// <summary>Runs a write; false when the database is read-only (SQLITE_READONLY).</summary>
    static bool TryWrite(Action write)
    {
        try { write(); return true; }
        catch (SqliteException e) when (e.SqliteErrorCode == 8) { return false; }
    }

    /// <summary>
    /// Brings any older schema to the current one in one transaction. Every table is created if missing: a version-1
    /// database already has runs and epochs, and has the other tables when locks or sweeps were used.
    /// </summary>
    static void Migrate(SqliteConnection db)
    {
        using var tx = db.BeginTransaction();
        Exec(db, """
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
            CREATE TABLE IF NOT EXISTS run_measures (
              run_id   TEXT NOT NULL,
              variant  TEXT NOT NULL,
              measure  TEXT NOT NULL,
              value    REAL,
              seconds  REAL NOT NULL,
              message  TEXT,
              PRIMARY KEY (run_id, variant, measure)
            );
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
              lease_until   TEXT,
              attempts      INTEGER NOT NULL DEFAULT 0,
              PRIMARY KEY (sweep, point_key)
            );
            """, tx);
        // Schema 3: leases on sweep points (a version-2 table lacks the two columns).
        var columns = new HashSet<string>(StringComparer.Ordinal);
        using (var info = db.CreateCommand())
        {
            info.Transaction = tx;
            info.CommandText = "PRAGMA table_info(sweep_points);";
            using var r = info.ExecuteReader();
            while (r.Read()) columns.Add(r.GetString(1));
        }
        if (!columns.Contains("lease_until")) Exec(db, "ALTER TABLE sweep_points ADD COLUMN lease_until TEXT;", tx);
        if (!columns.Contains("attempts")) Exec(db, "ALTER TABLE sweep_points ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;", tx);
        Exec(db, $"PRAGMA user_version = {RunDatabase.SchemaVersion};", tx);
        tx.Commit();
    }

    static HashSet<string> Tables(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table';";
        using var r = cmd.ExecuteReader();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read()) names.Add(r.GetString(0));
        return names;
    }

    static void Exec(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static object? Scalar(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>A command with named parameters (null is stored as NULL).</summary>
    SqliteCommand Command(string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        return cmd.ExecuteNonQuery();
    }

    List<T> Read<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(row(r));
        return list;
    }

    static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // Runs and epochs.

    public void InsertRun(RunRecord run, string status) => Execute("""
        INSERT INTO runs (id, kind, status, created_utc, model, dataset, seed, config_json, versions_json)
        VALUES ($id, $kind, $status, $created, $model, $dataset, $seed, $config, $versions);
        """, ("$id", run.Id), ("$kind", run.Kind), ("$status", status), ("$created", Iso(run.CreatedUtc)), ("$model", run.Model),
        ("$dataset", run.Dataset), ("$seed", run.Seed), ("$config", run.ConfigJson), ("$versions", run.VersionsJson));

    public void PutEpoch(string runId, int epoch, string metricsJson) =>
        Execute("INSERT OR REPLACE INTO epochs (run_id, epoch, metrics_json) VALUES ($id, $epoch, $json);",
            ("$id", runId), ("$epoch", epoch), ("$json", metricsJson));

    public bool FinishRun(string runId, string status, DateTime finishedUtc, string? finalJson, string? message) =>
        Execute("UPDATE runs SET status = $status, finished_utc = $finished, final_json = $final, message = $message WHERE id = $id;",
            ("$id", runId), ("$status", status), ("$finished", Iso(finishedUtc)), ("$final", finalJson), ("$message", message)) == 1;

    public bool ReopenRun(string runId, string status) =>
        Execute("UPDATE runs SET status = $status, finished_utc = NULL, message = NULL WHERE id = $id;",
            ("$id", runId), ("$status", status)) == 1;

    const string RunColumns =
        "id, kind, status, created_utc, finished_utc, model, dataset, seed, final_json, message, config_json, versions_json";

    static RunRow ReadRun(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), ParseUtc(r.GetString(3)), r.IsDBNull(4) ? null : ParseUtc(r.GetString(4)),
        Text(r, 5), Text(r, 6), r.IsDBNull(7) ? 0 : r.GetInt64(7), Text(r, 8), Text(r, 9), r.GetString(10), r.GetString(11));

    public IReadOnlyList<RunRow> Runs() => Read($"SELECT {RunColumns} FROM runs ORDER BY created_utc DESC, id DESC;", ReadRun);

    public RunRow? Run(string runId) => Read($"SELECT {RunColumns} FROM runs WHERE id = $id;", ReadRun, ("$id", runId)).SingleOrDefault();

    public IReadOnlyList<string> Epochs(string runId) =>
        Read("SELECT metrics_json FROM epochs WHERE run_id = $id ORDER BY epoch;", r => r.GetString(0), ("$id", runId));

    public IReadOnlyList<string> RunIds(string idOrPrefix, int limit) =>
        Read("SELECT id FROM runs WHERE id = $id OR id LIKE $prefix ESCAPE '\\' ORDER BY id LIMIT $limit;", r => r.GetString(0),
            ("$id", idOrPrefix), ("$prefix", LikePrefix(idOrPrefix)),
            ("$limit", limit));

    public string? SweepOf(string runId) => !_tables.Contains("sweep_points") ? null
        : Read("SELECT sweep FROM sweep_points WHERE run_id = $id LIMIT 1;", r => r.GetString(0), ("$id", runId)).FirstOrDefault();

    public void DeleteRun(string runId, string lockName)
    {
        using var tx = _db.BeginTransaction();
        foreach (var (sql, value) in new[]
                 {
                     ("DELETE FROM epochs WHERE run_id = $v;", runId), ("DELETE FROM runs WHERE id = $v;", runId),
                     ("DELETE FROM run_measures WHERE run_id = $v;", runId), ("DELETE FROM locks WHERE name = $v;", lockName),
                 })
        {
            using var cmd = Command(sql, tx, ("$v", value));
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    // Measures of runs.

    public void PutMeasure(string runId, StoredMeasure m) =>
        Execute("""
            INSERT OR REPLACE INTO run_measures (run_id, variant, measure, value, seconds, message) VALUES ($r, $v, $m, $x, $t, $msg);
            """,
            ("$r", runId), ("$v", m.Variant), ("$m", m.Measure), ("$x", m.Value is { } x && !double.IsNaN(x) ? x : null),
            ("$t", m.Seconds), ("$msg", m.Message));

    public IReadOnlyList<StoredMeasure> Measures(string runId) => !_tables.Contains("run_measures") ? []
        : Read("SELECT measure, variant, value, seconds, message FROM run_measures WHERE run_id = $r ORDER BY measure, variant;",
            r => new StoredMeasure(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetDouble(2), r.GetDouble(3), Text(r, 4)),
            ("$r", runId));

    // Locks.

    LockHolder? Holder(string name, SqliteTransaction? tx)
    {
        using var cmd = Command("SELECT pid, process_start, host, acquired_utc FROM locks WHERE name = $n;", tx, ("$n", name));
        using var r = cmd.ExecuteReader();
        return r.Read() ? new LockHolder(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)) : null;
    }

    public LockHolder? LockHolderOf(string name) => CanLock ? Holder(name, null) : null;

    public LockHolder? TakeLock(string name, LockHolder taker, Func<LockHolder, bool> refuses)
    {
        using var tx = _db.BeginTransaction();   // BEGIN IMMEDIATE: no other process writes between the read and the write
        if (Holder(name, tx) is { } holder && refuses(holder)) return holder;
        using (var put = Command("""
                   INSERT OR REPLACE INTO locks (name, pid, process_start, host, acquired_utc) VALUES ($n, $p, $s, $h, $t);
                   """, tx,
                   ("$n", name), ("$p", taker.Pid), ("$s", taker.ProcessStart), ("$h", taker.Host), ("$t", taker.AcquiredUtc)))
            put.ExecuteNonQuery();
        tx.Commit();
        return null;
    }

    public void ReleaseLock(string name, LockHolder holder) =>
        Execute("DELETE FROM locks WHERE name = $n AND pid = $p AND process_start = $s;",
            ("$n", name), ("$p", holder.Pid), ("$s", holder.ProcessStart));

    // Sweep points.

    public string? RegisterPoints(string sweep, IReadOnlyList<SweepPoint> points)
    {
        using var tx = _db.BeginTransaction();
        foreach (var p in points)
        {
            using (var get = Command("SELECT spec_json FROM sweep_points WHERE sweep = $s AND point_key = $k;", tx,
                       ("$s", sweep), ("$k", p.Key)))
            {
                if (get.ExecuteScalar() is string existing)
                {
                    if (existing != p.SpecJson) return p.Key;   // disposing the transaction rolls it back
                    continue;
                }
            }
            using var ins = Command("""
                INSERT INTO sweep_points (sweep, point_key, ordinal, settings_json, spec_json, status, updated_utc)
                VALUES ($s, $k, $o, $settings, $spec, $status, $now);
                """, tx, ("$s", sweep), ("$k", p.Key), ("$o", p.Ordinal), ("$settings", JsonSerializer.Serialize(p.Settings)),
                ("$spec", p.SpecJson), ("$status", PointStatus.Pending), ("$now", Now()));
            ins.ExecuteNonQuery();
        }
        tx.Commit();
        return null;
    }

    public int ReleaseRunningPoints(string sweep) => Execute("""
        UPDATE sweep_points SET status = 'pending', worker = NULL, lease_until = NULL, updated_utc = $now
        WHERE sweep = $s AND status = 'running';
        """, ("$s", sweep), ("$now", Now()));

    public int RequeueFailedPoints(string sweep) =>
        Execute("""
            UPDATE sweep_points SET status = 'pending', message = NULL, worker = NULL, lease_until = NULL, attempts = 0, updated_utc = $now
            WHERE sweep = $s AND status = 'failed';
            """,
            ("$s", sweep), ("$now", Now()));

    public int RequeuePoint(string sweep, string key) =>
        Execute("UPDATE sweep_points SET status = 'pending', attempts = 0, updated_utc = $now WHERE sweep = $s AND point_key = $k;",
            ("$s", sweep), ("$k", key), ("$now", Now()));

    /// <summary>One UPDATE … RETURNING statement: two workers never get the same point.</summary>
    public PointClaim? ClaimPoint(string sweep, string worker, DateTime now, DateTime leaseUntil, int maxAttempts) => Read("""
        UPDATE sweep_points SET status = 'running', worker = $w, lease_until = $until, attempts = attempts + 1, updated_utc = $now
        WHERE sweep = $s
          AND point_key = (SELECT point_key FROM sweep_points
                           WHERE sweep = $s AND (status = 'pending'
                             OR (status = 'running' AND (lease_until IS NULL OR lease_until < $now) AND attempts < $max))
                           ORDER BY ordinal LIMIT 1)
        RETURNING point_key, run_id, attempts;
        """, r => new PointClaim(r.GetString(0), Text(r, 1), r.GetInt32(2)), ("$s", sweep), ("$w", worker), ("$now", Iso(now)),
        ("$until", Iso(leaseUntil)), ("$max", maxAttempts)).SingleOrDefault();

    public bool RenewLease(string sweep, string key, string worker, DateTime leaseUntil) => Execute("""
        UPDATE sweep_points SET lease_until = $until WHERE sweep = $s AND point_key = $k AND worker = $w AND status = 'running';
        """, ("$s", sweep), ("$k", key), ("$w", worker), ("$until", Iso(leaseUntil))) == 1;

    public bool CompletePoint(string sweep, string key, string worker, string status, string? message) => Execute("""
        UPDATE sweep_points SET status = $st, message = $m, worker = NULL, lease_until = NULL, updated_utc = $now
        WHERE sweep = $s AND point_key = $k AND worker = $w AND status = 'running';
        """, ("$s", sweep), ("$k", key), ("$w", worker), ("$st", status), ("$m", message), ("$now", Now())) == 1;

    public int FailExhaustedPoints(string sweep, DateTime now, int maxAttempts) => Execute("""
        UPDATE sweep_points
        SET status = 'failed', worker = NULL, lease_until = NULL, updated_utc = $now,
            message = 'its worker stopped renewing its lease ' || attempts || ' times' || COALESCE('; last message: ' || message, '')
        WHERE sweep = $s AND status = 'running' AND (lease_until IS NULL OR lease_until < $now) AND attempts >= $max;
        """, ("$s", sweep), ("$now", Iso(now)), ("$max", maxAttempts));

    public void SetPointRun(string sweep, string key, string runId) =>
        Execute("UPDATE sweep_points SET run_id = $v, updated_utc = $now WHERE sweep = $s AND point_key = $k;",
            ("$s", sweep), ("$k", key), ("$v", runId), ("$now", Now()));

    public bool SetPointStatus(string sweep, string key, string status, string? message) => Execute("""
        UPDATE sweep_points SET status = $st, message = $m, worker = CASE WHEN $st = 'running' THEN worker ELSE NULL END,
          lease_until = CASE WHEN $st = 'running' THEN lease_until ELSE NULL END, updated_utc = $now
        WHERE sweep = $s AND point_key = $k;
        """,
        ("$s", sweep), ("$k", key), ("$st", status), ("$m", message), ("$now", Now())) == 1;

    public IReadOnlyList<PointRecord> Points(string sweep) => !_tables.Contains("sweep_points") ? []
        : Read("""
            SELECT point_key, ordinal, settings_json, status, run_id, worker, message, lease_until, attempts FROM sweep_points
            WHERE sweep = $s ORDER BY ordinal;
            """,
            r => new PointRecord(r.GetString(0), r.GetInt32(1), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(2))!,
                r.GetString(3), Text(r, 4), Text(r, 5), Text(r, 6), r.IsDBNull(7) ? null : ParseUtc(r.GetString(7)), r.GetInt32(8)),
            ("$s", sweep));

    public IReadOnlyList<string> Sweeps() => !_tables.Contains("sweep_points") ? []
        : Read("SELECT DISTINCT sweep FROM sweep_points ORDER BY sweep;", r => r.GetString(0));

    /// <summary>The connection's journal mode, busy timeout (ms) and foreign-key setting, as SQLite reports them.</summary>
    public (string JournalMode, long BusyTimeoutMs, bool ForeignKeys) Pragmas() => (
        Convert.ToString(Scalar(_db, "PRAGMA journal_mode;"), CultureInfo.InvariantCulture)!,
        Convert.ToInt64(Scalar(_db, "PRAGMA busy_timeout;"), CultureInfo.InvariantCulture),
        Convert.ToInt64(Scalar(_db, "PRAGMA foreign_keys;"), CultureInfo.InvariantCulture) != 0);

    public void Dispose() => _db.Dispose();
}
