using System.Text.Json;

namespace Basin.IO;

/// <summary>
/// What a long job has finished: one JSON line per piece of work, {"key": K, "value": V}, appended as each piece
/// finishes, so a job stopped by Ctrl+C or a kill continues and takes the finished pieces from here
/// (<see cref="GetOrAdd{T}"/>). Values round-trip exactly (doubles as their shortest exact text). A last line that a
/// kill cut short is dropped when the journal is read again: that piece is done again.
/// </summary>
public sealed class WorkJournal
{
    static readonly JsonSerializerOptions LineOptions = new(Json.Options) { WriteIndented = false };
    readonly string _path;
    readonly Dictionary<string, JsonElement> _done = new(StringComparer.Ordinal);

    WorkJournal(string path) => _path = path;

    /// <summary>How many pieces are recorded.</summary>
    public int Count => _done.Count;

    public bool Contains(string key) => _done.ContainsKey(key);

    /// <summary>A new, empty journal at <paramref name="path"/> (one there already is replaced).</summary>
    public static WorkJournal Start(string path)
    {
        AtomicFile.WriteAllText(path, "");
        return new WorkJournal(path);
    }

    /// <summary>The journal at <paramref name="path"/>, with the pieces it records.</summary>
    public static WorkJournal Continue(string path)
    {
        if (!File.Exists(path)) throw new BasinException($"{path} does not exist: nothing to continue");
        var journal = new WorkJournal(path);
        var lines = File.ReadAllLines(path);
        int valid = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var key = doc.RootElement.GetProperty("key").GetString() ?? throw new JsonException("no key");
                journal._done[key] = doc.RootElement.GetProperty("value").Clone();
                valid++;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                if (i < lines.Length - 1) throw new DataFormatException($"{path}, line {i + 1}: not a journal entry ({e.Message})");
            }
        }
        // A line cut short is dropped, so that the next entry starts on a line of its own.
        if (valid < lines.Length) AtomicFile.WriteAllText(path, string.Concat(lines.Take(valid).Select(l => l + "\n")));
        return journal;
    }

    /// <summary>The recorded value of <paramref name="key"/>; otherwise computes it, records it and returns it.</summary>
    public T GetOrAdd<T>(string key, Func<T> compute)
    {
        if (_done.TryGetValue(key, out var stored)) return stored.Deserialize<T>(LineOptions)!;
        var value = compute();
        Add(key, value);
        return value;
    }

    /// <summary>Records (or records again) the value of <paramref name="key"/>.</summary>
    public void Add<T>(string key, T value)
    {
        var element = JsonSerializer.SerializeToElement(value, LineOptions);
        File.AppendAllText(_path, JsonSerializer.Serialize(new Entry(key, element), LineOptions) + "\n");
        _done[key] = element;
    }

    sealed record Entry(string Key, JsonElement Value);
}
