using Basin.Experiments;
namespace Basin.IO;

/// <summary>
/// Writes a file so that a reader (or a crash) never sees it half written: the content goes
/// to a temporary file in the same folder, is flushed to the disk, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporaries (".NAME.PID.GUID.tmp") that writes in <paramref name="folder"/> left behind when their process
    /// was killed; those of a process that still runs are kept. Returns how many were removed.
    /// </summary>
    public static int RemoveStale(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (var file in Directory.GetFiles(folder, ".*.tmp"))
        {
            var parts = Path.GetFileName(file).Split('.');
            // "", name..., pid, guid, "tmp"
            if (parts.Length < 5 || !int.TryParse(parts[^3], out var pid) || parts[^2].Length != 32) continue;
            if (pid == Environment.ProcessId || Running(pid)) continue;
            try { File.Delete(file); removed++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    static bool Running(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // A zombie (Z) or dead (X) process is gone for this purpose, though /proc still lists it until it is reaped.
            try
            {
                var text = File.ReadAllText($"/proc/{pid}/stat");
                var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
                return state is not ("Z" or "X");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException) { return false; }
        }
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });
}
