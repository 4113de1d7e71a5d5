using Basin.IO;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using System.Globalization;
using System.Text.Json;
using System.Data.Common;

namespace Basin.Experiments;

/// <summary>
/// The runs of a run database: every run's config, seed, library versions, per-epoch metrics, final figures and
/// measures, and the locks that keep two processes off one run or sweep. It holds the rules (who holds a lock, what a
/// status means, the messages); <see cref="IRunDatabase"/> stores. Every write is atomic, so a crash never leaves a
/// half-written row.
/// </summary>
public sealed class RunStore : IDisposable
{
    readonly IRunDatabase _db;
    readonly bool _ownsDatabase;
    readonly HashSet<string> _held = new(StringComparer.Ordinal);
    SweepStore? _sweeps;

    /// <summary>
    /// The runs of <paramref name="database"/>, with run folders in <paramref name="folder"/>; the caller disposes the database.
    /// </summary>
    public RunStore(IRunDatabase database, string folder) : this(database, folder, ownsDatabase: false) { }

    RunStore(IRunDatabase database, string folder, bool ownsDatabase)
    {
        _db = database;
        Folder = Path.GetFullPath(folder);
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>The runs folder (holds the database and one sub-folder per run).</summary>
    public string Folder { get; }

    /// <summary>The database this store reads and writes.</summary>
    public IRunDatabase Database => _db;

    /// <summary>The sweeps of the same database, on the same connection.</summary>
    public SweepStore Sweeps => _sweeps ??= new SweepStore(_db);

    /// <summary>Opens (creating or migrating if needed) the run database of <paramref name="folder"/>.</summary>
    public static RunStore Open(string folder)
    {
        var db = RunDatabase.Open(folder);
        return new RunStore(db, folder, ownsDatabase: true);
    }

    static readonly LockHolder Me = new(Environment.ProcessId, StartOf(Environment.ProcessId) ?? "unknown", Environment.MachineName, "");

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
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException
                                       or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Whether the process that took a lock still runs (on another host: assumed so).</summary>
    static bool Alive(LockHolder h)
    {
        if (h.Host != Environment.MachineName) return true;
        if (h.Pid > int.MaxValue || StartOf((int)h.Pid) is not { } now) return false;
        if (now == h.ProcessStart) return true;
        // Start times in seconds are computed from the boot time, which each process estimates: allow a second.
        return now.StartsWith("s:", StringComparison.Ordinal) && h.ProcessStart.StartsWith("s:", StringComparison.Ordinal)
            && Math.Abs(long.Parse(now[2..], CultureInfo.InvariantCulture) - long.Parse(h.ProcessStart[2..], CultureInfo.InvariantCulture))
            <= 1;
    }

    /// <summary>
    /// <see cref="Alive"/>, given a process that was just killed up to 3 seconds to go (SIGKILL is delivered and the
    /// process torn down asynchronously, so a command started right after a kill can still see it).
    /// </summary>
    static bool StillAlive(LockHolder h)
    {
        for (int wait = 0; wait < 30; wait++)
        {
            if (!Alive(h)) return false;
            if (h.Host != Environment.MachineName) return true;
            Thread.Sleep(100);
        }
        return true;
    }

    static bool IsMe(LockHolder h) => h.Pid == Me.Pid && h.ProcessStart == Me.ProcessStart && h.Host == Me.Host;

    /// <summary>
    /// Takes the lock <paramref name="name"/> (e.g. "run:ID", "sweep:NAME") for this process until <see cref="Unlock"/> or
    /// <see cref="Dispose"/>. A lock whose process has ended is taken over; one held by a running process is refused
    /// with a message naming <paramref name="what"/>. Taking a lock this process holds again does nothing.
    /// </summary>
    public void Lock(string name, string what)
    {
        if (!_db.CanLock) return;
        if (_held.Contains(name)) return;
        var me = Me with { AcquiredUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) };
        if (_db.TakeLock(name, me, h => !IsMe(h) && StillAlive(h)) is { } holder)
            throw new BasinException(
                $"{what} is already in progress in process {holder.Pid} on {holder.Host} (since {holder.AcquiredUtc}); wait for it to end");
        _held.Add(name);
    }

    /// <summary>Releases a lock this store holds (nothing when it holds none).</summary>
    public void Unlock(string name)
    {
        if (!_held.Remove(name)) return;
        _db.ReleaseLock(name, Me);
    }

    static string RunLock(string runId) => "run:" + runId;

    /// <summary>
    /// A name for a sweep worker of this process that says where it runs: "LABEL@HOST/PID/START", so that
    /// <see cref="WorkerGone"/> can tell a worker whose process ended on this host.
    /// </summary>
    public static string WorkerName(string label) => $"{label}@{Me.Host}/{Me.Pid}/{Me.ProcessStart}";

    /// <summary>True when <paramref name="worker"/> (<see cref="WorkerName"/>) names a process on this host that no longer runs.</summary>
    public static bool WorkerGone(string? worker)
    {
        if (worker is null) return false;
        int at = worker.LastIndexOf('@');
        var parts = at < 0 ? [] : worker[(at + 1)..].Split('/', 3);
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)) return false;
        var holder = new LockHolder(pid, parts[2], parts[0], "");
        return holder.Host == Environment.MachineName && !Alive(holder);
    }

    /// <summary>
    /// Before a sweep worker continues a run whose point it claimed after the previous worker's lease ended: a run lock
    /// held from another host is removed (that worker stopped renewing its lease, so it no longer trains the run).
    /// On this host the lock's process is checked as usual when the run is resumed.
    /// </summary>
    public void TakeOverRun(string runId)
    {
        if (_db.CanLock && _db.LockHolderOf(RunLock(runId)) is { } holder && holder.Host != Environment.MachineName)
            _db.ReleaseLock(RunLock(runId), holder);
    }

    /// <summary>Takes a run's lock before a resume: a second resume of a run that is in progress elsewhere is refused.</summary>
    public void LockRun(string runId) => Lock(RunLock(runId), $"run {runId}");

    /// <summary>A new, unique run id: UTC time plus a short random suffix (sortable by start time).</summary>
    public static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 2).ToLowerInvariant()}";

    /// <summary>The folder for a run's files (checkpoint, weights, plots).</summary>
    public string RunFolder(string runId) => Path.Combine(Folder, runId);

    /// <summary>Records a run that has started.</summary>
    public void Start(RunRecord run)
    {
        Lock(RunLock(run.Id), $"run {run.Id}");
        _db.InsertRun(run, RunStatus.Running);
    }

    /// <summary>Stores (or replaces, on resume) one epoch's metrics, any JSON-serializable record.</summary>
    public void AddEpoch<T>(string runId, int epoch, T metrics) =>
        _db.PutEpoch(runId, epoch, JsonSerializer.Serialize(metrics, Json.Options));

    /// <summary>Marks a run finished, failed or cancelled, with its final figures and a message.</summary>
    public void Finish<T>(string runId, string status, T? final, string? message = null)
    {
        if (!_db.FinishRun(runId, status, DateTime.UtcNow, final is null ? null : JsonSerializer.Serialize(final, Json.Options), message))
            throw new BasinException($"no run with id '{runId}'");
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
        catch (Exception e) when (e is DbException or IOException or BasinException) { }
    }

    /// <summary>Marks a run as running again (resume).</summary>
    public void Reopen(string runId)
    {
        LockRun(runId);
        if (!_db.ReopenRun(runId, RunStatus.Running)) throw new BasinException($"no run with id '{runId}'");
    }

    /// <summary>
    /// All runs, newest first; only those whose method (see <see cref="RunSummary.Method"/>) and status (as shown, so
    /// "interrupted" matches) equal <paramref name="method"/> and <paramref name="status"/> and whose tags include
    /// <paramref name="tag"/>, when given (ignoring case).
    /// </summary>
    public IReadOnlyList<RunSummary> List(string? method = null, string? status = null, string? tag = null) =>
        _db.Runs().Select(r => TrueStatus(Summary(r)))
            .Where(s => method is null || string.Equals(s.Method, method, StringComparison.OrdinalIgnoreCase))
            .Where(s => status is null || string.Equals(s.Status, status, StringComparison.OrdinalIgnoreCase))
            .Where(s => tag is null || s.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase))
            .ToList();

    /// <summary>
    /// A run's summary with the labels of its stored config: its method (the string "method", else its kind: GAN runs),
    /// its "name" and its "tags" (training runs given --name or --tag).
    /// </summary>
    static RunSummary Summary(RunRow r)
    {
        var s = new RunSummary(r.Id, r.Kind, r.Status, r.CreatedUtc, r.FinishedUtc, r.Model, r.Dataset, r.Seed,
            r.FinalJson is null ? null : JsonDocument.Parse(r.FinalJson).RootElement.Clone(), r.Message);
        string method = s.Kind;
        string? name = null;
        var tags = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(r.ConfigJson);
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
        var summary = TrueStatus(Summary(_db.Run(id)!));
        if (summary.Status == RunStatus.Running)
            throw new BasinException($"run {id} is running; stop it (Ctrl+C) before deleting it");
        if (_db.LockHolderOf(RunLock(id)) is { } holder && Alive(holder))
            throw new BasinException($"run {id} is in use by process {holder.Pid} on {holder.Host}; wait for it to end");
        if (_db.SweepOf(id) is { } sweep)
            throw new BasinException($"run {id} is a point of sweep '{sweep}'; it is kept with its sweep");
        _db.DeleteRun(id, RunLock(id));
        var folder = RunFolder(id);
        // Only a plain sub-folder named for the run is removed (an id with a path in it would reach elsewhere).
        if (id is not ("." or "..") && id.IndexOfAny(['/', '\\']) < 0 && Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        return id;
    }

    /// <summary>One run with its config, versions and per-epoch metrics; a unique id prefix is accepted.</summary>
    public RunDetails Get(string idOrPrefix)
    {
        var id = ResolveId(idOrPrefix);
        var row = _db.Run(id)!;
        var epochs = _db.Epochs(id).Select(e => JsonDocument.Parse(e).RootElement.Clone()).ToList();
        return new RunDetails(TrueStatus(Summary(row)), JsonDocument.Parse(row.ConfigJson).RootElement.Clone(),
            JsonDocument.Parse(row.VersionsJson).RootElement.Clone(), epochs);
    }

    string ResolveId(string idOrPrefix)
    {
        if (string.IsNullOrWhiteSpace(idOrPrefix)) throw new BasinException("run id is empty");
        var ids = _db.RunIds(idOrPrefix, 3);
        if (ids.Contains(idOrPrefix)) return idOrPrefix;
        return ids.Count switch
        {
            0 => throw new BasinException($"no run '{idOrPrefix}' in {_db.Location} (see 'basin runs list')"),
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
        if (s.Status != RunStatus.Running || !_db.CanLock) return s;
        if (_db.LockHolderOf(RunLock(s.Id)) is { } holder && Alive(holder)) return s;
        return s with
        {
            Status = RunStatus.Interrupted,
            Message = s.Message ?? "its process ended without recording an outcome (killed?); resume it from its last checkpoint",
        };
    }

    /// <summary>The variant of a measure taken on the trained model.</summary>
    public const string OriginalVariant = "original";
    /// <summary>The variant of a measure taken on the trained model's randomly reparametrized copy.</summary>
    public const string ReparametrizedVariant = "reparametrized";

    /// <summary>Stores (or replaces) one measure of a run; NaN is stored as null.</summary>
    public void StoreMeasure(string runId, string variant, string measure, double? value, double seconds, string? message) =>
        _db.PutMeasure(runId, new StoredMeasure(measure, variant, value, seconds, message));

    /// <summary>A run's stored measures, by measure and variant; a name stored before a rename is read as the current one.</summary>
    public IReadOnlyList<StoredMeasure> Measures(string runId) =>
        _db.Measures(runId).Select(m => m with { Measure = Basin.Measures.MeasureRegistry.CurrentName(m.Measure) }).ToList();

    public void Dispose()
    {
        foreach (var name in _held.ToArray())
        {
            try { Unlock(name); }
            catch (DbException) { }   // the database went away: the lock dies with this process anyway
        }
        if (_ownsDatabase) _db.Dispose();
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
public sealed record RunRecord(string Id, string Kind, DateTime CreatedUtc, string? Model, string? Dataset, long Seed, string ConfigJson,
    string VersionsJson);

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

/// <summary>A stored measure value (null when the measure failed or is undefined; then <see cref="Message"/> says why).</summary>
public sealed record StoredMeasure(string Measure, string Variant, double? Value, double Seconds, string? Message);

public sealed record RunDetails(RunSummary Summary, JsonElement Config, JsonElement Versions, IReadOnlyList<JsonElement> Epochs);
