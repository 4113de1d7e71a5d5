using System.Buffers.Binary;
using System.IO.Compression;
using Basin.Data;

namespace Basin.Tests.Data;

/// <summary>Builds small IDX files for the tests.</summary>
internal static class IdxFiles
{
    public static byte[] Idx(long[] shape, byte[] values, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * shape.Length + values.Length];
        bytes[2] = type;
        bytes[3] = (byte)shape.Length;
        for (var d = 0; d < shape.Length; d++)
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * d), (uint)shape[d]);
        values.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>Pixel j of image i: a pattern that hits 0 and 255 and differs between images.</summary>
    public static byte Pixel(int image, int j) => (byte)((image * 37 + j * 11) % 256);

    public static byte[] Images(int count, int rows = 28, int columns = 28)
    {
        var values = new byte[count * rows * columns];
        for (var i = 0; i < count; i++)
            for (var j = 0; j < rows * columns; j++)
                values[i * rows * columns + j] = Pixel(i, j);
        return Idx([count, rows, columns], values);
    }

    public static byte Label(int i, int offset) => (byte)((i * 3 + offset) % 10);

    public static byte[] Labels(int count, int offset = 0) =>
        Idx([count], Enumerable.Range(0, count).Select(i => Label(i, offset)).ToArray());

    /// <summary>
    /// The four standard files in <paramref name="folder"/>: <paramref name="trainCount"/> training and
    /// <paramref name="testCount"/> test examples of 28x28; labels offset by <paramref name="labelOffset"/> to tell copies apart.
    /// </summary>
    public static IReadOnlyDictionary<string, byte[]> WriteSet(string folder, int trainCount, int testCount, bool gzip, int labelOffset = 0)
    {
        var files = StandardSet(trainCount, testCount, gzip, labelOffset);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return files;
    }

    public static Dictionary<string, byte[]> StandardSet(int trainCount, int testCount, bool gzip, int labelOffset = 0)
    {
        var raw = new Dictionary<string, byte[]>
        {
            [IdxFileNames.Images(Split.Train)] = Images(trainCount),
            [IdxFileNames.Labels(Split.Train)] = Labels(trainCount, labelOffset),
            [IdxFileNames.Images(Split.Test)] = Images(testCount),
            [IdxFileNames.Labels(Split.Test)] = Labels(testCount, labelOffset),
        };
        return gzip ? raw.ToDictionary(kv => kv.Key + ".gz", kv => Gzip(kv.Value)) : raw;
    }
}

/// <summary>A fresh folder under /tmp, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("basin-data-test-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Sub(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
