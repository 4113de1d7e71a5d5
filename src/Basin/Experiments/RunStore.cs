using Basin.IO;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Basin.Experiments;

/// <summary>
/// The run database: every run's config, seed, library versions, per-epoch metrics and final
/// figures, in one SQLite file (runs/basin.db by default). Every write is one transaction, so a
/// crash never leaves a half-written row. A database written by a newer Basin is refused.
/// </summary>
public sealed class RunStore : IDisposable
{
    public const int SchemaVersion = 1;
    public const string FileName = "basin.db";

    readonly SqliteConnection _db;
    readonly bool _hasLocks;
    readonly HashSet<string> _held = new(StringComparer.Ordinal);

    RunStore(SqliteConnection db, string folder, bool hasLocks)
    {
        _db = db;
        Folder = folder;
        _hasLocks = hasLocks;
    }

    /// <summary>The runs folder (holds the database and one sub-folder per run).</summary>
    public string Folder { get; }

    /// <summary>Opens (creating if needed) the database in <paramref name="folder"/>.</summary>
    public static RunStore Open(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            db.Open();
            Exec(db, "PRAGMA busy_timeout = 10000;");
            int version = ReadUserVersion(db);
            if (version > SchemaVersion)
                throw new BasinException($"{path} was written by a newer Basin (schema {version}, this Basin reads up to {SchemaVersion}); upgrade Basin or use another --runs folder");
            if (version < SchemaVersion) CreateSchema(db);
            return new RunStore(db, Path.GetFullPath(folder), CreateLocks(db));
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw new DataFormatException($"{path} is not a usable Basin run database: {e.Message}", e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    static int ReadUserVersion(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    static void CreateSchema(SqliteConnection db)
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
            """, tx);
        Exec(db, $"PRAGMA user_version = {SchemaVersion};", tx);
        tx.Commit();
    }

    /// <summary>
    /// The locks table (added in place, like the sweep tables; the schema version is unchanged): one row per lock, naming
    /// the process that holds it. False when it cannot be created (a read-only database): then nothing can be locked.
    /// </summary>
    static bool CreateLocks(SqliteConnection db)
    {
        try
        {
            Exec(db, """
                CREATE TABLE IF NOT EXISTS locks (
                  name          TEXT PRIMARY KEY,
                  pid           INTEGER NOT NULL,
                  process_start TEXT NOT NULL,
                  host          TEXT NOT NULL,
                  acquired_utc  TEXT NOT NULL
                );
                """);
            return true;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 8)   // SQLITE_READONLY
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'locks';";
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
        }
    }

    static readonly string ProcessStart = StartOf(Environment.ProcessId) ?? "unknown";

    /// <summary>
    /// When process <paramref name="pid"/> started, to tell it from a later process with the same id: on Linux the
    /// start time in clock ticks since boot (/proc/PID/stat, field 22), exact; elsewhere the start time in whole seconds.
    /// Null when no such process runs.
    /// </summary>
    static string? StartOf(int pid)
    {
        try
        {
            var stat = $"/proc/{pid}/stat";
            if (OperatingSystem.IsLinux())
            {
                if (!File.Exists(stat)) return null;
                var text = File.ReadAllText(stat);
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');   // fields 3, 4, ... after "pid (comm)"
                // A killed process is a zombie (Z) or dead (X) until its parent reaps it: it holds nothing any more.
                if (fields.Length == 0 || fields[0] is "Z" or "X") return null;
                return fields.Length > 19 ? "ticks:" + fields[19] : null;
            }
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return "s:" + (p.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>Whether the process that took a lock still runs (on another host: assumed so).</summary>
    static bool Alive(long pid, string processStart, string host)
    {
        if (host != Environment.MachineName) return true;
        if (pid > int.MaxValue || StartOf((int)pid) is not { } now) return false;
        if (now == processStart) return true;
        // Start times in seconds are computed from the boot time, which each process estimates: allow a second.
        return now.StartsWith("s:", StringComparison.Ordinal) && processStart.StartsWith("s:", StringComparison.Ordinal)
            && Math.Abs(long.Parse(now[2..], CultureInfo.InvariantCulture) - long.Parse(processStart[2..], CultureInfo.InvariantCulture)) <= 1;
    }

    /// <summary>
    /// <see cref="Alive"/>, given a process that was just killed up to 3 seconds to go (SIGKILL is delivered and the
    /// process torn down asynchronously, so a command started right after a kill can still see it).
    /// </summary>
    static bool StillAlive(long pid, string processStart, string host)
    {
        for (int wait = 0; wait < 30; wait++)
        {
            if (!Alive(pid, processStart, host)) return false;
            if (host != Environment.MachineName) return true;
            Thread.Sleep(100);
        }
        return true;
    }

    /// <summary>
    /// Takes the lock <paramref name="name"/> (e.g. "run:ID", "sweep:NAME") for this process until <see cref="Unlock"/> or
    /// <see cref="Dispose"/>. A lock whose process has ended is taken over; one held by a running process is refused
    /// with a message naming <paramref name="what"/>. Taking a lock this process holds again does nothing.
    /// </summary>
    public void Lock(string name, string what)
    {
        if (!_hasLocks) return;
        if (_held.Contains(name)) return;
        using var tx = _db.BeginTransaction();
        using (var get = _db.CreateCommand())
        {
            get.Transaction = tx;
            get.CommandText = "SELECT pid, process_start, host, acquired_utc FROM locks WHERE name = $n;";
            get.Parameters.AddWithValue("$n", name);
            using var r = get.ExecuteReader();
            if (r.Read())
            {
                long pid = r.GetInt64(0);
                string start = r.GetString(1), host = r.GetString(2), since = r.GetString(3);
                bool mine = pid == Environment.ProcessId && start == ProcessStart && host == Environment.MachineName;
                if (!mine && StillAlive(pid, start, host))
                    throw new BasinException($"{what} is already in progress in process {pid} on {host} (since {since}); wait for it to end");
            }
        }
        using (var put = _db.CreateCommand())
        {
            put.Transaction = tx;
            put.CommandText = "INSERT OR REPLACE INTO locks (name, pid, process_start, host, acquired_utc) VALUES ($n, $p, $s, $h, $t);";
            put.Parameters.AddWithValue("$n", name);
            put.Parameters.AddWithValue("$p", Environment.ProcessId);
            put.Parameters.AddWithValue("$s", ProcessStart);
            put.Parameters.AddWithValue("$h", Environment.MachineName);
            put.Parameters.AddWithValue("$t", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            put.ExecuteNonQuery();
        }
        tx.Commit();
        _held.Add(name);
    }

    /// <summary>Releases a lock this store holds (nothing when it holds none).</summary>
    public void Unlock(string name)
    {
        if (!_held.Remove(name)) return;
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "DELETE FROM locks WHERE name = $n AND pid = $p AND process_start = $s;";
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$p", Environment.ProcessId);
        cmd.Parameters.AddWithValue("$s", ProcessStart);
        cmd.ExecuteNonQuery();
    }

    static string RunLock(string runId) => "run:" + runId;

    /// <summary>Takes a run's lock before a resume: a second resume of a run that is in progress elsewhere is refused.</summary>
    public void LockRun(string runId) => Lock(RunLock(runId), $"run {runId}");

    static void Exec(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>A new, unique run id: UTC time plus a short random suffix (sortable by start time).</summary>
    public static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 2).ToLowerInvariant()}";

    /// <summary>The folder for a run's files (checkpoint, weights, plots).</summary>
    public string RunFolder(string runId) => Path.Combine(Folder, runId);

    /// <summary>Records a run that has started.</summary>
    public void Start(RunRecord run)
    {
        Lock(RunLock(run.Id), $"run {run.Id}");
        using var cmd = _db.CreateCommand();
        cmd.CommandText = """
            INSERT INTO runs (id, kind, status, created_utc, model, dataset, seed, config_json, versions_json)
            VALUES ($id, $kind, $status, $created, $model, $dataset, $seed, $config, $versions);
            """;
        cmd.Parameters.AddWithValue("$id", run.Id);
        cmd.Parameters.AddWithValue("$kind", run.Kind);
        cmd.Parameters.AddWithValue("$status", RunStatus.Running);
        cmd.Parameters.AddWithValue("$created", run.CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
        cmd.Parameters.AddWithValue("$model", (object?)run.Model ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$dataset", (object?)run.Dataset ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$seed", run.Seed);
        cmd.Parameters.AddWithValue("$config", run.ConfigJson);
        cmd.Parameters.AddWithValue("$versions", run.VersionsJson);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Stores (or replaces, on resume) one epoch's metrics, any JSON-serializable record.</summary>
    public void AddEpoch<T>(string runId, int epoch, T metrics)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO epochs (run_id, epoch, metrics_json) VALUES ($id, $epoch, $json);";
        cmd.Parameters.AddWithValue("$id", runId);
        cmd.Parameters.AddWithValue("$epoch", epoch);
        cmd.Parameters.AddWithValue("$json", JsonSerializer.Serialize(metrics, Json.Options));
        cmd.ExecuteNonQuery();
    }

    /// <summary>Marks a run finished, failed or cancelled, with its final figures and a message.</summary>
    public void Finish<T>(string runId, string status, T? final, string? message = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "UPDATE runs SET status = $status, finished_utc = $finished, final_json = $final, message = $message WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", runId);
        cmd.Parameters.AddWithValue("$status", status);
        cmd.Parameters.AddWithValue("$finished", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        cmd.Parameters.AddWithValue("$final", final is null ? DBNull.Value : JsonSerializer.Serialize(final, Json.Options));
        cmd.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
        if (cmd.ExecuteNonQuery() != 1) throw new BasinException($"no run with id '{runId}'");
        Unlock(RunLock(runId));
    }

    /// <summary>
    /// Marks a run failed with the reason <paramref name="error"/> gives, as the last act of a job that is about to
    /// rethrow it. When the database is what failed, nothing more can be recorded: the run then shows as interrupted
    /// (its lock ends with the process).
    /// </summary>
    public void RecordFailure(string runId, Exception error)
    {
        var reason = error is BasinException ? error.Message : $"{error.GetType().Name}: {error.Message}".ReplaceLineEndings(" ");
        try { Finish<object>(runId, RunStatus.Failed, null, reason); }
        catch (Exception e) when (e is SqliteException or IOException or BasinException) { }
    }

    /// <summary>Marks a run as running again (resume).</summary>
    public void Reopen(string runId)
    {
        LockRun(runId);
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "UPDATE runs SET status = $status, finished_utc = NULL, message = NULL WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", runId);
        cmd.Parameters.AddWithValue("$status", RunStatus.Running);
        if (cmd.ExecuteNonQuery() != 1) throw new BasinException($"no run with id '{runId}'");
    }

    /// <summary>
    /// All runs, newest first; only those whose method (see <see cref="RunSummary.Method"/>) and status (as shown, so
    /// "interrupted" matches) equal <paramref name="method"/> and <paramref name="status"/> and whose tags include
    /// <paramref name="tag"/>, when given (ignoring case).
    /// </summary>
    public IReadOnlyList<RunSummary> List(string? method = null, string? status = null, string? tag = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT id, kind, status, created_utc, finished_utc, model, dataset, seed, final_json, message, config_json FROM runs ORDER BY created_utc DESC, id DESC;";
        using var r = cmd.ExecuteReader();
        var list = new List<RunSummary>();
        while (r.Read()) list.Add(WithLabels(ReadSummary(r), r.GetString(10)));
        r.Close();
        return list.Select(TrueStatus)
            .Where(s => method is null || string.Equals(s.Method, method, StringComparison.OrdinalIgnoreCase))
            .Where(s => status is null || string.Equals(s.Status, status, StringComparison.OrdinalIgnoreCase))
            .Where(s => tag is null || s.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase))
            .ToList();
    }

    /// <summary>
    /// A run with the labels of its stored config: its method (the string "method", else its kind: GAN runs), its
    /// "name" and its "tags" (training runs given --name or --tag).
    /// </summary>
    static RunSummary WithLabels(RunSummary s, string configJson)
    {
        string method = s.Kind;
        string? name = null;
        var tags = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(configJson);
            var c = doc.RootElement;
            if (c.ValueKind == JsonValueKind.Object)
            {
                if (c.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() is { Length: > 0 } ms)
                    method = ms;
                if (c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) name = n.GetString();
                if (c.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array)
                    tags.AddRange(t.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            }
        }
        catch (JsonException) { }
        return s with { Method = method, Name = name, Tags = tags };
    }

    /// <summary>
    /// Deletes a run (a unique id prefix is accepted): its rows and its folder. Refused for a run that is running, whose
    /// lock a live process holds (a resume in progress), or that a sweep's point records (delete it with its sweep).
    /// Returns the id deleted.
    /// </summary>
    public string Delete(string idOrPrefix)
    {
        var id = ResolveId(idOrPrefix);
        var summary = List().First(s => s.Id == id);
        if (summary.Status == RunStatus.Running)
            throw new BasinException($"run {id} is running; stop it (Ctrl+C) before deleting it");
        if (_hasLocks)
        {
            using var lk = _db.CreateCommand();
            lk.CommandText = "SELECT pid, process_start, host FROM locks WHERE name = $n;";
            lk.Parameters.AddWithValue("$n", RunLock(id));
            using var r = lk.ExecuteReader();
            if (r.Read() && Alive(r.GetInt64(0), r.GetString(1), r.GetString(2)))
                throw new BasinException($"run {id} is in use by process {r.GetInt64(0)} on {r.GetString(2)}; wait for it to end");
        }
        if (TableExists("sweep_points"))
        {
            using var sw = _db.CreateCommand();
            sw.CommandText = "SELECT sweep FROM sweep_points WHERE run_id = $id LIMIT 1;";
            sw.Parameters.AddWithValue("$id", id);
            if (sw.ExecuteScalar() is string sweep)
                throw new BasinException($"run {id} is a point of sweep '{sweep}'; it is kept with its sweep");
        }
        using (var tx = _db.BeginTransaction())
        {
            foreach (var sql in new[] { "DELETE FROM epochs WHERE run_id = $id;", "DELETE FROM runs WHERE id = $id;" }
                         .Concat(TableExists("run_measures") ? ["DELETE FROM run_measures WHERE run_id = $id;"] : [])
                         .Concat(_hasLocks ? ["DELETE FROM locks WHERE name = 'run:' || $id;"] : []))
            {
                using var cmd = _db.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = sql;
                cmd.Parameters.AddWithValue("$id", id);
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
        var folder = RunFolder(id);
        // Only a plain sub-folder named for the run is removed (an id with a path in it would reach elsewhere).
        if (id is not ("." or "..") && id.IndexOfAny(['/', '\\']) < 0 && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        return id;
    }

    bool TableExists(string name)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $n;";
        cmd.Parameters.AddWithValue("$n", name);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>One run with its config, versions and per-epoch metrics; a unique id prefix is accepted.</summary>
    public RunDetails Get(string idOrPrefix)
    {
        var id = ResolveId(idOrPrefix);
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT id, kind, status, created_utc, finished_utc, model, dataset, seed, final_json, message, config_json, versions_json FROM runs WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        using var r = cmd.ExecuteReader();
        r.Read();
        var config = r.GetString(10);
        var summary = WithLabels(ReadSummary(r), config);
        var versions = r.GetString(11);
        r.Close();
        summary = TrueStatus(summary);

        using var ecmd = _db.CreateCommand();
        ecmd.CommandText = "SELECT metrics_json FROM epochs WHERE run_id = $id ORDER BY epoch;";
        ecmd.Parameters.AddWithValue("$id", id);
        using var er = ecmd.ExecuteReader();
        var epochs = new List<JsonElement>();
        while (er.Read()) epochs.Add(JsonDocument.Parse(er.GetString(0)).RootElement.Clone());
        return new RunDetails(summary, JsonDocument.Parse(config).RootElement.Clone(), JsonDocument.Parse(versions).RootElement.Clone(), epochs);
    }

    string ResolveId(string idOrPrefix)
    {
        if (string.IsNullOrWhiteSpace(idOrPrefix)) throw new BasinException("run id is empty");
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT id FROM runs WHERE id = $id OR id LIKE $prefix ESCAPE '\\' ORDER BY id LIMIT 3;";
        cmd.Parameters.AddWithValue("$id", idOrPrefix);
        cmd.Parameters.AddWithValue("$prefix", idOrPrefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
        using var r = cmd.ExecuteReader();
        var ids = new List<string>();
        while (r.Read()) ids.Add(r.GetString(0));
        if (ids.Contains(idOrPrefix)) return idOrPrefix;
        return ids.Count switch
        {
            0 => throw new BasinException($"no run '{idOrPrefix}' in {Path.Combine(Folder, FileName)} (see 'basin runs list')"),
            1 => ids[0],
            _ => throw new BasinException($"run id '{idOrPrefix}' is ambiguous: {string.Join(", ", ids)}, ..."),
        };
    }

    /// <summary>
    /// A run recorded as running whose process has ended without recording an outcome (killed, or a power cut) is
    /// reported as <see cref="RunStatus.Interrupted"/>: the row says running, but no process holds the run's lock.
    /// </summary>
    RunSummary TrueStatus(RunSummary s)
    {
        if (s.Status != RunStatus.Running || !_hasLocks) return s;
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT pid, process_start, host FROM locks WHERE name = $n;";
        cmd.Parameters.AddWithValue("$n", RunLock(s.Id));
        using var r = cmd.ExecuteReader();
        if (r.Read() && Alive(r.GetInt64(0), r.GetString(1), r.GetString(2))) return s;
        return s with
        {
            Status = RunStatus.Interrupted,
            Message = s.Message ?? "its process ended without recording an outcome (killed?); resume it from its last checkpoint",
        };
    }

    static RunSummary ReadSummary(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2),
        DateTime.Parse(r.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        r.IsDBNull(4) ? null : DateTime.Parse(r.GetString(4), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        r.IsDBNull(5) ? null : r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? 0 : r.GetInt64(7),
        r.IsDBNull(8) ? null : JsonDocument.Parse(r.GetString(8)).RootElement.Clone(),
        r.IsDBNull(9) ? null : r.GetString(9));

    public void Dispose()
    {
        foreach (var name in _held.ToArray())
        {
            try { Unlock(name); }
            catch (SqliteException) { }   // the database went away: the lock dies with this process anyway
        }
        _db.Dispose();
    }
}

public static class RunStatus
{
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    /// <summary>Recorded as running, but its process has ended without recording an outcome (shown, never stored).</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>What is known about a run when it starts.</summary>
public sealed record RunRecord(string Id, string Kind, DateTime CreatedUtc, string? Model, string? Dataset, long Seed, string ConfigJson, string VersionsJson);

/// <summary>What `runs list` shows of a run; <see cref="Method"/> is the config's "method" (training runs), else the kind.</summary>
public sealed record RunSummary(string Id, string Kind, string Status, DateTime CreatedUtc, DateTime? FinishedUtc,
    string? Model, string? Dataset, long Seed, JsonElement? Final, string? Message)
{
    public string? Method { get; init; }
    /// <summary>The run's --name, if given.</summary>
    public string? Name { get; init; }
    /// <summary>The run's --tag labels (none: empty).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

public sealed record RunDetails(RunSummary Summary, JsonElement Config, JsonElement Versions, IReadOnlyList<JsonElement> Epochs);
