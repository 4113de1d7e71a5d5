using Basin.IO;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Basin.Experiments;

/// <summary>A sweep point as recorded: status pending, running, done or failed; the run that trains it; a message.</summary>
public sealed record PointRecord(string Key, int Ordinal, IReadOnlyDictionary<string, string> Settings, string Status, string? RunId, string? Worker, string? Message);

/// <summary>A point a worker has claimed.</summary>
public sealed record PointClaim(string Key, string? RunId);

/// <summary>A stored measure value (null when the measure failed or is undefined; then <see cref="Message"/> says why).</summary>
public sealed record StoredMeasure(string Measure, string Variant, double? Value, double Seconds, string? Message);

public static class PointStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// The sweep tables of the run database (basin.db): sweep_points (one row per sweep point: status, the run that trains
/// it, which worker holds it) and run_measures (every measure of every run, for the trained model and its
/// reparametrized copy). They are added with CREATE TABLE IF NOT EXISTS next to RunStore's tables, so older
/// databases gain them in place and older Basins, which ignore unknown tables, still read the database; the schema
/// version is unchanged. Several worker processes write at once: the database is put in WAL mode, every connection
/// waits up to 60 s for a lock, and a point is claimed by one UPDATE … RETURNING statement, so two workers never
/// get the same point.
/// </summary>
public sealed class SweepStore : IDisposable
{
    public const string OriginalVariant = "original";
    public const string ReparametrizedVariant = "reparametrized";

    readonly SqliteConnection _db;

    SweepStore(SqliteConnection db) => _db = db;

    /// <summary>Opens the sweep tables of the database in <paramref name="folder"/> (refusing one from a newer Basin, like RunStore).</summary>
    public static SweepStore Open(string folder)
    {
        using (RunStore.Open(folder)) { }   // creates the run tables, checks the schema version
        var path = Path.Combine(folder, RunStore.FileName);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 60 }.ToString());
        try
        {
            db.Open();
            Exec(db, "PRAGMA busy_timeout = 60000;");
            Exec(db, "PRAGMA journal_mode = WAL;");
            Exec(db, """
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
                """);
            return new SweepStore(db);
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw new DataFormatException($"{path} is not a usable Basin run database: {e.Message}", e);
        }
    }

    static void Exec(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// Records the sweep's points (new ones as pending). A point already recorded with a different training spec is an
    /// error: the sweep file changed under the same name, and its finished models would not match the file.
    /// </summary>
    public void Register(string sweep, IReadOnlyList<SweepPoint> points)
    {
        using var tx = _db.BeginTransaction();
        foreach (var p in points)
        {
            using var get = _db.CreateCommand();
            get.Transaction = tx;
            get.CommandText = "SELECT spec_json FROM sweep_points WHERE sweep = $s AND point_key = $k;";
            get.Parameters.AddWithValue("$s", sweep);
            get.Parameters.AddWithValue("$k", p.Key);
            if (get.ExecuteScalar() is string existing)
            {
                if (existing != p.SpecJson)
                    throw new BasinException($"sweep '{sweep}' is already in this run database with other settings for point {p.Key} (the sweep file changed); give the sweep a new name or use another --runs folder");
                continue;
            }
            using var ins = _db.CreateCommand();
            ins.Transaction = tx;
            ins.CommandText = """
                INSERT INTO sweep_points (sweep, point_key, ordinal, settings_json, spec_json, status, updated_utc)
                VALUES ($s, $k, $o, $settings, $spec, $status, $now);
                """;
            ins.Parameters.AddWithValue("$s", sweep);
            ins.Parameters.AddWithValue("$k", p.Key);
            ins.Parameters.AddWithValue("$o", p.Ordinal);
            ins.Parameters.AddWithValue("$settings", JsonSerializer.Serialize(p.Settings));
            ins.Parameters.AddWithValue("$spec", p.SpecJson);
            ins.Parameters.AddWithValue("$status", PointStatus.Pending);
            ins.Parameters.AddWithValue("$now", Now());
            ins.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>Points left running by a worker that was killed go back to pending (call only when no worker of this sweep runs).</summary>
    public int ReleaseStale(string sweep) => Update("UPDATE sweep_points SET status = 'pending', worker = NULL, updated_utc = $now WHERE sweep = $s AND status = 'running';", sweep);

    /// <summary>Failed points go back to pending, to be tried again (their message is cleared; their run, if any, is resumed).</summary>
    public int RequeueFailed(string sweep) => Update("UPDATE sweep_points SET status = 'pending', message = NULL, worker = NULL, updated_utc = $now WHERE sweep = $s AND status = 'failed';", sweep);

    /// <summary>Finished points whose run lacks one of <paramref name="measures"/> (in either variant) go back to pending, to be measured.</summary>
    public int RequeueMissingMeasures(string sweep, IReadOnlyList<string> measures)
    {
        int requeued = 0;
        foreach (var p in Points(sweep).Where(p => p.Status == PointStatus.Done && p.RunId is not null))
        {
            var have = Measures(p.RunId!).Select(m => (m.Measure, m.Variant)).ToHashSet();
            if (measures.Any(m => !have.Contains((m, OriginalVariant)) || !have.Contains((m, ReparametrizedVariant))))
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = "UPDATE sweep_points SET status = 'pending', updated_utc = $now WHERE sweep = $s AND point_key = $k;";
                cmd.Parameters.AddWithValue("$s", sweep);
                cmd.Parameters.AddWithValue("$k", p.Key);
                cmd.Parameters.AddWithValue("$now", Now());
                requeued += cmd.ExecuteNonQuery();
            }
        }
        return requeued;
    }

    int Update(string sql, string sweep)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$s", sweep);
        cmd.Parameters.AddWithValue("$now", Now());
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Atomically takes the first pending point of <paramref name="keys"/> for <paramref name="worker"/>; null when none is left.</summary>
    public PointClaim? Claim(string sweep, string worker)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = """
            UPDATE sweep_points SET status = 'running', worker = $w, updated_utc = $now
            WHERE sweep = $s AND point_key = (SELECT point_key FROM sweep_points WHERE sweep = $s AND status = 'pending' ORDER BY ordinal LIMIT 1)
            RETURNING point_key, run_id;
            """;
        cmd.Parameters.AddWithValue("$s", sweep);
        cmd.Parameters.AddWithValue("$w", worker);
        cmd.Parameters.AddWithValue("$now", Now());
        using var r = cmd.ExecuteReader();
        return r.Read() ? new PointClaim(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)) : null;
    }

    public void SetRun(string sweep, string key, string runId) => SetColumns(sweep, key, "run_id = $v", runId);

    /// <summary>Marks a point done or failed (with a message), or gives it back as pending.</summary>
    public void SetStatus(string sweep, string key, string status, string? message = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "UPDATE sweep_points SET status = $st, message = $m, worker = CASE WHEN $st = 'running' THEN worker ELSE NULL END, updated_utc = $now WHERE sweep = $s AND point_key = $k;";
        cmd.Parameters.AddWithValue("$s", sweep);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$st", status);
        cmd.Parameters.AddWithValue("$m", (object?)message ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$now", Now());
        if (cmd.ExecuteNonQuery() != 1) throw new BasinException($"sweep '{sweep}' has no point {key}");
    }

    void SetColumns(string sweep, string key, string assignment, object value)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = $"UPDATE sweep_points SET {assignment}, updated_utc = $now WHERE sweep = $s AND point_key = $k;";
        cmd.Parameters.AddWithValue("$s", sweep);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$v", value);
        cmd.Parameters.AddWithValue("$now", Now());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Stores (or replaces) one measure of a run; NaN is stored as null.</summary>
    public void StoreMeasure(string runId, string variant, string measure, double? value, double seconds, string? message)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO run_measures (run_id, variant, measure, value, seconds, message) VALUES ($r, $v, $m, $x, $t, $msg);";
        cmd.Parameters.AddWithValue("$r", runId);
        cmd.Parameters.AddWithValue("$v", variant);
        cmd.Parameters.AddWithValue("$m", measure);
        cmd.Parameters.AddWithValue("$x", value is { } x && !double.IsNaN(x) ? x : DBNull.Value);
        cmd.Parameters.AddWithValue("$t", seconds);
        cmd.Parameters.AddWithValue("$msg", (object?)message ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The stored measures of a run; a name stored before a rename is read as the current one.</summary>
    public IReadOnlyList<StoredMeasure> Measures(string runId)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT measure, variant, value, seconds, message FROM run_measures WHERE run_id = $r ORDER BY measure, variant;";
        cmd.Parameters.AddWithValue("$r", runId);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredMeasure>();
        while (r.Read())
            list.Add(new StoredMeasure(Basin.Measures.MeasureRegistry.CurrentName(r.GetString(0)), r.GetString(1),
                r.IsDBNull(2) ? null : r.GetDouble(2), r.GetDouble(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return list;
    }

    /// <summary>Every recorded point of a sweep, in plan order.</summary>
    public IReadOnlyList<PointRecord> Points(string sweep)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT point_key, ordinal, settings_json, status, run_id, worker, message FROM sweep_points WHERE sweep = $s ORDER BY ordinal;";
        cmd.Parameters.AddWithValue("$s", sweep);
        using var r = cmd.ExecuteReader();
        var list = new List<PointRecord>();
        while (r.Read())
            list.Add(new PointRecord(r.GetString(0), r.GetInt32(1), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(2))!, r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6)));
        return list;
    }

    /// <summary>Names of the sweeps recorded in the database.</summary>
    public IReadOnlyList<string> Sweeps()
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT sweep FROM sweep_points ORDER BY sweep;";
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return list;
    }

    public void Dispose() => _db.Dispose();
}
