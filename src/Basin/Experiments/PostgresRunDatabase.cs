using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Basin.Experiments.Sweeps;
using Npgsql;

using static Basin.Experiments.StoredText;

namespace Basin.Experiments;

/// <summary>
/// The run database on a PostgreSQL server, for sweeps on many machines (runs' files stay in the shared runs folder). The
/// same tables and statements as <see cref="SqliteRunDatabase"/>, plus a <c>basin_schema</c> table holding the schema
/// version. Text that is sorted or matched by prefix is compared byte-wise (<c>COLLATE "C"</c>), as SQLite does, whatever
/// the server's locale. Statements that read then write (locks, registering points) take a transaction-scoped advisory
/// lock; foreign keys are not enforced (as in SQLite); claiming a point is one statement that skips rows other workers
/// are claiming (<c>FOR UPDATE SKIP LOCKED</c>).
/// </summary>
public sealed class PostgresRunDatabase : IRunDatabase
{
    /// <summary>How long a statement or a connection attempt may take before failing.</summary>
    public const int TimeoutSeconds = 60;

    // Advisory-lock keys: one for schema changes, one space (hashed names) for locks and sweeps.
    const long SchemaLockKey = 0x42617369_6e000001;

    readonly NpgsqlConnection _db;

    PostgresRunDatabase(NpgsqlConnection db, string location)
    {
        _db = db;
        Location = location;
    }

    /// <summary>The server and database as a URL without the password.</summary>
    public string Location { get; }

    public bool CanLock => true;

    /// <summary>True when <paramref name="store"/> names a PostgreSQL server (postgresql:// or postgres://).</summary>
    public static bool IsUrl(string? store) =>
        store is not null && (store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Connects to <paramref name="url"/> (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; a <c>host</c> query parameter may
    /// name a Unix-socket folder, <c>sslmode</c> is passed on), creates or migrates the tables, and refuses a database of a
    /// newer schema. Errors name the server without the password.
    /// </summary>
    public static PostgresRunDatabase Open(string url)
    {
        var (builder, location) = Parse(url);
        NpgsqlConnection? db = null;
        try
        {
            db = new NpgsqlConnection(builder.ConnectionString);
            db.Open();
            Migrate(db, location);
            return new PostgresRunDatabase(db, location);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            db?.Dispose();
            throw new BasinException($"run store {location}: {Describe(e)}");
        }
        catch
        {
            db?.Dispose();
            throw;
        }
    }

    /// <summary>The connection settings of a URL and the URL without its password (for messages).</summary>
    public static (NpgsqlConnectionStringBuilder Builder, string Location) Parse(string url)
    {
        if (!IsUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new OptionException("store", "the run store must be a folder or a URL postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
        var user = uri.UserInfo.Split(':', 2);
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0) throw new OptionException("store", "the run store URL names no database (…/DATABASE)");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
            Username = user[0].Length > 0 ? Uri.UnescapeDataString(user[0]) : Environment.UserName,
            Timeout = TimeoutSeconds,
            CommandTimeout = TimeoutSeconds,
            Pooling = false,
            ApplicationName = "basin",
        };
        if (user.Length == 2) builder.Password = Uri.UnescapeDataString(user[1]);
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (kv[0].ToLowerInvariant())
            {
                case "host": builder.Host = value; break;
                case "sslmode": builder.SslMode = Enum.Parse<SslMode>(value, ignoreCase: true); break;
                default: throw new OptionException("store", $"the run store URL has an unknown parameter '{kv[0]}' (use host or sslmode)");
            }
        }
        if (string.IsNullOrEmpty(builder.Host)) throw new OptionException("store", "the run store URL names no host");
        var location = $"postgresql://{Uri.EscapeDataString(builder.Username!)}@{uri.Host}:{builder.Port}/{database}";
        return (builder, location);
    }

    static string Describe(Exception e)
    {
        var inner = e.InnerException is SocketException s ? s.Message : null;
        var text = e is PostgresException p ? $"{p.MessageText} ({p.SqlState})" : e.Message;
        return inner is null || text.Contains(inner, StringComparison.Ordinal) ? text : $"{text}: {inner}";
    }

    /// <summary>Creates the tables if missing and records the schema version, under an advisory lock (workers open at once).</summary>
    static void Migrate(NpgsqlConnection db, string location)
    {
        using var tx = db.BeginTransaction();
        Exec(db, tx, $"SELECT pg_advisory_xact_lock({SchemaLockKey});");
        Exec(db, tx, "CREATE TABLE IF NOT EXISTS basin_schema (version INTEGER NOT NULL);");
        using (var get = new NpgsqlCommand("SELECT max(version) FROM basin_schema;", db, tx))
        {
            if (get.ExecuteScalar() is int version && version > RunDatabase.SchemaVersion)
                throw new BasinException($"run store {location} was written by a newer Basin (schema {version}, this Basin reads "
                    + $"up to {RunDatabase.SchemaVersion}); upgrade Basin or use another store");
        }
        Exec(db, tx, """
            CREATE TABLE IF NOT EXISTS runs (
              id            TEXT COLLATE "C" PRIMARY KEY,
              kind          TEXT NOT NULL,
              status        TEXT NOT NULL,
              created_utc   TEXT COLLATE "C" NOT NULL,
              finished_utc  TEXT,
              model         TEXT,
              dataset       TEXT,
              seed          BIGINT,
              config_json   TEXT NOT NULL,
              versions_json TEXT NOT NULL,
              final_json    TEXT,
              message       TEXT
            );
            CREATE TABLE IF NOT EXISTS epochs (
              run_id        TEXT COLLATE "C" NOT NULL,
              epoch         INTEGER NOT NULL,
              metrics_json  TEXT NOT NULL,
              PRIMARY KEY (run_id, epoch)
            );
            CREATE TABLE IF NOT EXISTS run_measures (
              run_id   TEXT COLLATE "C" NOT NULL,
              variant  TEXT COLLATE "C" NOT NULL,
              measure  TEXT COLLATE "C" NOT NULL,
              value    DOUBLE PRECISION,
              seconds  DOUBLE PRECISION NOT NULL,
              message  TEXT,
              PRIMARY KEY (run_id, variant, measure)
            );
            CREATE TABLE IF NOT EXISTS locks (
              name          TEXT COLLATE "C" PRIMARY KEY,
              pid           BIGINT NOT NULL,
              process_start TEXT NOT NULL,
              host          TEXT NOT NULL,
              acquired_utc  TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS sweep_points (
              sweep         TEXT COLLATE "C" NOT NULL,
              point_key     TEXT COLLATE "C" NOT NULL,
              ordinal       INTEGER NOT NULL,
              settings_json TEXT NOT NULL,
              spec_json     TEXT NOT NULL,
              status        TEXT NOT NULL,
              run_id        TEXT COLLATE "C",
              worker        TEXT,
              updated_utc   TEXT NOT NULL,
              message       TEXT,
              lease_until   TEXT COLLATE "C",
              attempts      INTEGER NOT NULL DEFAULT 0,
              PRIMARY KEY (sweep, point_key)
            );
            ALTER TABLE sweep_points ADD COLUMN IF NOT EXISTS lease_until TEXT COLLATE "C";
            ALTER TABLE sweep_points ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0;
            DELETE FROM basin_schema;
            """);
        Exec(db, tx, $"INSERT INTO basin_schema (version) VALUES ({RunDatabase.SchemaVersion});");
        tx.Commit();
    }

    static void Exec(NpgsqlConnection db, NpgsqlTransaction tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, db, tx);
        cmd.ExecuteNonQuery();
    }

    /// <summary>A command with named parameters (@name; null is stored as NULL).</summary>
    NpgsqlCommand Command(string sql, NpgsqlTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, _db, tx);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        return cmd.ExecuteNonQuery();
    }

    List<T> Read<T>(string sql, Func<NpgsqlDataReader, T> row, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(row(r));
        return list;
    }

    void Lock(NpgsqlTransaction tx, string space, string name)
    {
        using var cmd = Command("SELECT pg_advisory_xact_lock(hashtextextended(@k, 0));", tx, ("k", space + "\n" + name));
        cmd.ExecuteNonQuery();
    }

    static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // Runs and epochs.

    public void InsertRun(RunRecord run, string status) => Execute("""
        INSERT INTO runs (id, kind, status, created_utc, model, dataset, seed, config_json, versions_json)
        VALUES (@id, @kind, @status, @created, @model, @dataset, @seed, @config, @versions);
        """, ("id", run.Id), ("kind", run.Kind), ("status", status), ("created", Iso(run.CreatedUtc)), ("model", run.Model),
        ("dataset", run.Dataset), ("seed", run.Seed), ("config", run.ConfigJson), ("versions", run.VersionsJson));

    public void PutEpoch(string runId, int epoch, string metricsJson) => Execute("""
        INSERT INTO epochs (run_id, epoch, metrics_json) VALUES (@id, @epoch, @json)
        ON CONFLICT (run_id, epoch) DO UPDATE SET metrics_json = excluded.metrics_json;
        """, ("id", runId), ("epoch", epoch), ("json", metricsJson));

    public bool FinishRun(string runId, string status, DateTime finishedUtc, string? finalJson, string? message) =>
        Execute("UPDATE runs SET status = @status, finished_utc = @finished, final_json = @final, message = @message WHERE id = @id;",
            ("id", runId), ("status", status), ("finished", Iso(finishedUtc)), ("final", finalJson), ("message", message)) == 1;

    public bool ReopenRun(string runId, string status) =>
        Execute("UPDATE runs SET status = @status, finished_utc = NULL, message = NULL WHERE id = @id;",
            ("id", runId), ("status", status)) == 1;

    const string RunColumns =
        "id, kind, status, created_utc, finished_utc, model, dataset, seed, final_json, message, config_json, versions_json";

    static RunRow ReadRun(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), ParseUtc(r.GetString(3)), r.IsDBNull(4) ? null : ParseUtc(r.GetString(4)),
        Text(r, 5), Text(r, 6), r.IsDBNull(7) ? 0 : r.GetInt64(7), Text(r, 8), Text(r, 9), r.GetString(10), r.GetString(11));

    public IReadOnlyList<RunRow> Runs() => Read($"SELECT {RunColumns} FROM runs ORDER BY created_utc DESC, id DESC;", ReadRun);

    public RunRow? Run(string runId) => Read($"SELECT {RunColumns} FROM runs WHERE id = @id;", ReadRun, ("id", runId)).SingleOrDefault();

    public IReadOnlyList<string> Epochs(string runId) =>
        Read("SELECT metrics_json FROM epochs WHERE run_id = @id ORDER BY epoch;", r => r.GetString(0), ("id", runId));

    public IReadOnlyList<string> RunIds(string idOrPrefix, int limit) =>
        Read("SELECT id FROM runs WHERE id = @id OR id LIKE @prefix ESCAPE '\\' ORDER BY id LIMIT @limit;", r => r.GetString(0),
            ("id", idOrPrefix), ("prefix", LikePrefix(idOrPrefix)),
            ("limit", limit));

    public string? SweepOf(string runId) =>
        Read("SELECT sweep FROM sweep_points WHERE run_id = @id LIMIT 1;", r => r.GetString(0), ("id", runId)).FirstOrDefault();

    public void DeleteRun(string runId, string lockName)
    {
        using var tx = _db.BeginTransaction();
        foreach (var (sql, value) in new[]
                 {
                     ("DELETE FROM epochs WHERE run_id = @v;", runId), ("DELETE FROM runs WHERE id = @v;", runId),
                     ("DELETE FROM run_measures WHERE run_id = @v;", runId), ("DELETE FROM locks WHERE name = @v;", lockName),
                 })
        {
            using var cmd = Command(sql, tx, ("v", value));
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    // Measures of runs.

    public void PutMeasure(string runId, StoredMeasure m) => Execute("""
        INSERT INTO run_measures (run_id, variant, measure, value, seconds, message) VALUES (@r, @v, @m, @x, @t, @msg)
        ON CONFLICT (run_id, variant, measure) DO UPDATE
          SET value = excluded.value, seconds = excluded.seconds, message = excluded.message;
        """,
        ("r", runId), ("v", m.Variant), ("m", m.Measure), ("x", m.Value is { } x && !double.IsNaN(x) ? x : null),
        ("t", m.Seconds), ("msg", m.Message));

    public IReadOnlyList<StoredMeasure> Measures(string runId) =>
        Read("SELECT measure, variant, value, seconds, message FROM run_measures WHERE run_id = @r ORDER BY measure, variant;",
            r => new StoredMeasure(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetDouble(2), r.GetDouble(3), Text(r, 4)),
            ("r", runId));

    // Locks.

    LockHolder? Holder(string name, NpgsqlTransaction? tx)
    {
        using var cmd = Command("SELECT pid, process_start, host, acquired_utc FROM locks WHERE name = @n;", tx, ("n", name));
        using var r = cmd.ExecuteReader();
        return r.Read() ? new LockHolder(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)) : null;
    }

    public LockHolder? LockHolderOf(string name) => Holder(name, null);

    public LockHolder? TakeLock(string name, LockHolder taker, Func<LockHolder, bool> refuses)
    {
        using var tx = _db.BeginTransaction();
        Lock(tx, "lock", name);   // no other taker reads or writes this lock until the transaction ends
        if (Holder(name, tx) is { } holder && refuses(holder)) return holder;
        using (var put = Command("""
                   INSERT INTO locks (name, pid, process_start, host, acquired_utc) VALUES (@n, @p, @s, @h, @t)
                   ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, process_start = excluded.process_start,
                     host = excluded.host, acquired_utc = excluded.acquired_utc;
                   """, tx,
                   ("n", name), ("p", taker.Pid), ("s", taker.ProcessStart), ("h", taker.Host), ("t", taker.AcquiredUtc)))
            put.ExecuteNonQuery();
        tx.Commit();
        return null;
    }

    public void ReleaseLock(string name, LockHolder holder) =>
        Execute("DELETE FROM locks WHERE name = @n AND pid = @p AND process_start = @s;",
            ("n", name), ("p", holder.Pid), ("s", holder.ProcessStart));

    // Sweep points.

    public string? RegisterPoints(string sweep, IReadOnlyList<SweepPoint> points)
    {
        using var tx = _db.BeginTransaction();
        Lock(tx, "sweep", sweep);
        foreach (var p in points)
        {
            using (var get = Command("SELECT spec_json FROM sweep_points WHERE sweep = @s AND point_key = @k;", tx,
                       ("s", sweep), ("k", p.Key)))
            {
                if (get.ExecuteScalar() is string existing)
                {
                    if (existing != p.SpecJson) return p.Key;   // disposing the transaction rolls it back
                    continue;
                }
            }
            using var ins = Command("""
                INSERT INTO sweep_points (sweep, point_key, ordinal, settings_json, spec_json, status, updated_utc)
                VALUES (@s, @k, @o, @settings, @spec, @status, @now);
                """, tx, ("s", sweep), ("k", p.Key), ("o", p.Ordinal), ("settings", JsonSerializer.Serialize(p.Settings)),
                ("spec", p.SpecJson), ("status", PointStatus.Pending), ("now", Now()));
            ins.ExecuteNonQuery();
        }
        tx.Commit();
        return null;
    }

    public int ReleaseRunningPoints(string sweep) => Execute("""
        UPDATE sweep_points SET status = 'pending', worker = NULL, lease_until = NULL, updated_utc = @now
        WHERE sweep = @s AND status = 'running';
        """, ("s", sweep), ("now", Now()));

    public int RequeueFailedPoints(string sweep) => Execute("""
        UPDATE sweep_points SET status = 'pending', message = NULL, worker = NULL, lease_until = NULL, attempts = 0, updated_utc = @now
        WHERE sweep = @s AND status = 'failed';
        """, ("s", sweep), ("now", Now()));

    public int RequeuePoint(string sweep, string key) =>
        Execute("UPDATE sweep_points SET status = 'pending', attempts = 0, updated_utc = @now WHERE sweep = @s AND point_key = @k;",
            ("s", sweep), ("k", key), ("now", Now()));

    /// <summary>One statement; rows another worker is claiming are skipped, so two workers never get the same point.</summary>
    public PointClaim? ClaimPoint(string sweep, string worker, DateTime now, DateTime leaseUntil, int maxAttempts) => Read("""
        UPDATE sweep_points SET status = 'running', worker = @w, lease_until = @until, attempts = attempts + 1, updated_utc = @now
        WHERE sweep = @s
          AND point_key = (SELECT point_key FROM sweep_points
                           WHERE sweep = @s AND (status = 'pending'
                             OR (status = 'running' AND (lease_until IS NULL OR lease_until < @now) AND attempts < @max))
                           ORDER BY ordinal LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING point_key, run_id, attempts;
        """, r => new PointClaim(r.GetString(0), Text(r, 1), r.GetInt32(2)), ("s", sweep), ("w", worker), ("now", Iso(now)),
        ("until", Iso(leaseUntil)), ("max", maxAttempts)).SingleOrDefault();

    public bool RenewLease(string sweep, string key, string worker, DateTime leaseUntil) => Execute("""
        UPDATE sweep_points SET lease_until = @until WHERE sweep = @s AND point_key = @k AND worker = @w AND status = 'running';
        """, ("s", sweep), ("k", key), ("w", worker), ("until", Iso(leaseUntil))) == 1;

    public bool CompletePoint(string sweep, string key, string worker, string status, string? message) => Execute("""
        UPDATE sweep_points SET status = @st, message = @m, worker = NULL, lease_until = NULL, updated_utc = @now
        WHERE sweep = @s AND point_key = @k AND worker = @w AND status = 'running';
        """, ("s", sweep), ("k", key), ("w", worker), ("st", status), ("m", message), ("now", Now())) == 1;

    public int FailExhaustedPoints(string sweep, DateTime now, int maxAttempts) => Execute("""
        UPDATE sweep_points
        SET status = 'failed', worker = NULL, lease_until = NULL, updated_utc = @now,
            message = 'its worker stopped renewing its lease ' || attempts || ' times' || COALESCE('; last message: ' || message, '')
        WHERE sweep = @s AND status = 'running' AND (lease_until IS NULL OR lease_until < @now) AND attempts >= @max;
        """, ("s", sweep), ("now", Iso(now)), ("max", maxAttempts));

    public void SetPointRun(string sweep, string key, string runId) =>
        Execute("UPDATE sweep_points SET run_id = @v, updated_utc = @now WHERE sweep = @s AND point_key = @k;",
            ("s", sweep), ("k", key), ("v", runId), ("now", Now()));

    public bool SetPointStatus(string sweep, string key, string status, string? message) => Execute("""
        UPDATE sweep_points SET status = @st, message = @m, worker = CASE WHEN @st = 'running' THEN worker ELSE NULL END,
          lease_until = CASE WHEN @st = 'running' THEN lease_until ELSE NULL END, updated_utc = @now
        WHERE sweep = @s AND point_key = @k;
        """,
        ("s", sweep), ("k", key), ("st", status), ("m", message), ("now", Now())) == 1;

    public IReadOnlyList<PointRecord> Points(string sweep) => Read("""
        SELECT point_key, ordinal, settings_json, status, run_id, worker, message, lease_until, attempts FROM sweep_points
        WHERE sweep = @s ORDER BY ordinal;
        """,
        r => new PointRecord(r.GetString(0), r.GetInt32(1), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(2))!,
            r.GetString(3), Text(r, 4), Text(r, 5), Text(r, 6), r.IsDBNull(7) ? null : ParseUtc(r.GetString(7)), r.GetInt32(8)),
        ("s", sweep));

    public IReadOnlyList<string> Sweeps() => Read("SELECT DISTINCT sweep FROM sweep_points ORDER BY sweep;", r => r.GetString(0));

    public void Dispose() => _db.Dispose();
}
