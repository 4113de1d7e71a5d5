using Basin.Experiments;
namespace Basin.IO;

/// <summary>
/// Reads input files with a bound. A pipe, a device such as /dev/zero or a /proc file reports a length of 0, so a file
/// whose length is 0 is refused before it is opened: opening a FIFO would block until a writer comes, and a device
/// would be read without end. A regular file is read up to its length, and one longer than the caller's limit is
/// refused before any byte is read.
/// </summary>
public static class BoundedFile
{
    /// <summary>The file's length after checking that it exists, is not empty (or a pipe or device) and is at most
    /// <paramref name="maxBytes"/>.</summary>
    public static long CheckedLength(string path, long maxBytes, string what)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new BasinException(Directory.Exists(path) ? $"{path}: a folder, not a {what}" : $"{what} not found: {path}");
        if (info.Length == 0)
            throw new DataFormatException($"{path}: the {what} is empty, or not a regular file (a pipe or a device), which is not read");
        if (info.Length > maxBytes)
            throw new DataFormatException($"{path}: {info.Length:N0} bytes, more than the {maxBytes:N0} a {what} may have");
        return info.Length;
    }

    /// <summary>Opens a regular file for reading after <see cref="CheckedLength"/>.</summary>
    public static FileStream OpenRead(string path, long maxBytes, string what)
    {
        CheckedLength(path, maxBytes, what);
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new BasinException($"{path}: cannot read: " +
            $"{e.Message}", e); }
    }

    /// <summary>The whole file, which must be a regular file of 1 to <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        long length = CheckedLength(path, Math.Min(maxBytes, Array.MaxLength), what);
        using var fs = OpenRead(path, maxBytes, what);
        var bytes = new byte[length];
        int read = 0;
        try
        {
            while (read < bytes.Length)
            {
                int n = fs.Read(bytes, read, bytes.Length - read);
                if (n == 0) break;
                read += n;
            }
        }
        catch (IOException e) { throw new BasinException($"{path}: cannot read: {e.Message}", e); }
        if (read < bytes.Length) throw new DataFormatException($"{path}: the {what} shrank while it was read ({read} of " +
            $"{bytes.Length} bytes)");
        return bytes;
    }
}
