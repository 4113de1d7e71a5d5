using TorchSharp;
using System.Buffers.Binary;
using System.IO.Compression;
using Basin.IO;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Reads IDX files (LeCun's MNIST format), raw or gzip-compressed, and checks them strictly:
/// every malformed file gives a <see cref="DataFormatException"/> naming the file and the cause.
/// Gzip is recognised by its magic bytes (1f 8b), not by the file name.
/// Only the unsigned-byte type (0x08) is read; that is what MNIST and Fashion-MNIST use.
/// </summary>
public static class IdxReader
{
    public const byte UnsignedByteType = 0x08;

    /// <summary>More dimensions than this is taken as a damaged header rather than a real file.</summary>
    public const int MaxDimensions = 8;

    /// <summary>Reads and validates one IDX file.</summary>
    public static IdxArray Read(string path) => Parse(ReadContent(path), path);

    /// <summary>
    /// Reads an images file ([N, rows, columns]) and its labels file ([N]) into a data set with
    /// inputs float32 [N, 1, rows, columns] scaled to [0, 1] by x/255 (no other normalisation)
    /// and labels int64. <paramref name="samples"/> keeps the first N examples in file order
    /// (null keeps all); both files are still validated in full.
    /// </summary>
    public static LabeledDataset ReadLabeled(string imagesPath, string labelsPath, string name, int classCount, long? samples = null)
    {
        var images = Read(imagesPath);
        if (images.Shape.Length != 3)
            throw Bad(imagesPath, $"images need 3 dimensions (count, rows, columns) but the header gives {images.Shape.Length}");
        var labels = Read(labelsPath);
        if (labels.Shape.Length != 1)
            throw Bad(labelsPath, $"labels need 1 dimension but the header gives {labels.Shape.Length}");
        if (images.Count != labels.Count)
            throw new DataFormatException($"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Count} labels");
        for (var i = 0; i < labels.Values.Length; i++)
            if (labels.Values[i] >= classCount)
                throw Bad(labelsPath, $"label {labels.Values[i]} at index {i} is outside 0..{classCount - 1}");

        var n = samples ?? images.Count;
        if (n < 1) throw new BasinException($"{name}: sample count must be at least 1, got {n}");
        if (n > images.Count) throw new BasinException($"{name}: asked for {n} examples but {imagesPath} holds {images.Count}");

        long rows = images.Shape[1], columns = images.Shape[2];
        var pixelCount = n * rows * columns;
        var pixels = pixelCount == images.Values.Length ? images.Values : images.Values[..(int)pixelCount];
        var labelValues = n == labels.Values.Length ? labels.Values : labels.Values[..(int)n];

        using var rawPixels = tensor(pixels, new[] { n, 1, rows, columns }, ScalarType.Byte);
        using var rawLabels = tensor(labelValues, new[] { n }, ScalarType.Byte);
        using var maxPixel = 255f.ToScalar();   // kept alive through the native call (an implicit Scalar can be finalized mid-call)
        var inputs = rawPixels.to_type(ScalarType.Float32).div_(maxPixel);
        var targets = rawLabels.to_type(ScalarType.Int64);
        return new LabeledDataset(name, inputs, targets, classCount);
    }

    /// <summary>Validates IDX content already in memory; <paramref name="source"/> names it in errors.</summary>
    public static IdxArray Parse(ReadOnlySpan<byte> content, string source)
    {
        if (content.Length < 4)
            throw Bad(source, $"truncated header: {content.Length} bytes, an IDX header needs at least 4");
        if (content[0] != 0 || content[1] != 0)
            throw Bad(source, $"wrong magic: the first two bytes are 0x{content[0]:X2} 0x{content[1]:X2}, an IDX file " +
                "starts with 0x00 0x00");
        var type = content[2];
        if (type != UnsignedByteType)
            throw TypeName(type) is { } known
                ? Bad(source, $"unsupported IDX data type 0x{type:X2} ({known}); only 0x08 (unsigned byte) is read")
                : Bad(source, $"wrong magic: the third byte 0x{type:X2} is not an IDX data type code");
        int rank = content[3];
        if (rank < 1 || rank > MaxDimensions)
            throw Bad(source, $"dimension count {rank} in the header is outside 1..{MaxDimensions}");
        var headerLength = 4 + 4 * rank;
        if (content.Length < headerLength)
            throw Bad(source, $"truncated header: {rank} dimensions need {headerLength} header bytes but the file has {content.Length}");

        var shape = new long[rank];
        long total = 1;
        for (var d = 0; d < rank; d++)
        {
            var size = BinaryPrimitives.ReadUInt32BigEndian(content.Slice(4 + 4 * d, 4));
            if (size == 0 || size > int.MaxValue)
                throw Bad(source, $"dimension {d} has size {size} in the header");
            shape[d] = size;
            total *= size;
            if (total > Array.MaxLength)
                throw Bad(source, $"the header's dimension sizes describe more than {Array.MaxLength} values");
        }

        var available = content.Length - headerLength;
        if (available < total)
            throw Bad(source, $"truncated data: the header promises {total} bytes for shape [{string.Join(",", shape)}] but " +
                $"only {available} follow");
        if (available > total)
            throw Bad(source, $"trailing garbage: {available - total} bytes follow the {total} data bytes the header promises");
        return new IdxArray(source, shape, content.Slice(headerLength).ToArray());
    }

    /// <summary>The file's bytes, decompressed when it starts with the gzip magic.</summary>
    internal static ReadOnlySpan<byte> ReadContent(string path)
    {
        byte[] file;
        try
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"no such file");
            file = BoundedFile.ReadAllBytes(path, Array.MaxLength, "IDX file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BasinException($"{path}: cannot read: {e.Message}", e);
        }
        return IsGzip(file) ? Gunzip(file, path) : file;
    }

    internal static bool IsGzip(ReadOnlySpan<byte> file) => file.Length >= 2 && file[0] == 0x1F && file[1] == 0x8B;

    /// <summary>
    /// Decompresses an IDX file, reading its header first: inflation stops one byte past the size the header promises,
    /// so a gzip bomb is refused after that many bytes rather than inflated to gigabytes.
    /// </summary>
    private static ReadOnlySpan<byte> Gunzip(byte[] file, string source)
    {
        // header (10) + smallest deflate stream (2) + trailer (8)
        if (file.Length < 20)
            throw Bad(source, $"corrupt or truncated gzip: only {file.Length} bytes");
        var trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(file.Length - 8, 4));
        var trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(file.Length - 4, 4));

        byte[] content;
        int length;
        bool headerRead;
        long expectedPlusOne;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(file, writable: false), CompressionMode.Decompress);
            var head = new byte[4 + 4 * MaxDimensions];
            int got = ReadAtMost(gzip, head, 0, 4);
            long expected = head.Length;   // a header Parse will refuse: read no more than a header
            headerRead = false;
            if (got == 4 && head[0] == 0 && head[1] == 0 && head[3] is >= 1 and <= MaxDimensions)
            {
                int headerLength = 4 + 4 * head[3];
                got += ReadAtMost(gzip, head, 4, headerLength - 4);
                if (got == headerLength)
                {
                    long total = 1;
                    for (int d = 0; d < head[3] && total <= Array.MaxLength; d++)
                        total *= Math.Max(1u, BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(4 + 4 * d, 4)));
                    expected = Math.Min(headerLength + total, Array.MaxLength - 1);
                    headerRead = true;
                }
            }
            // One byte more than the header promises is enough to tell "trailing garbage" from a file that fits.
            // The buffer grows with what is actually inflated (a 100-byte file claiming 2 GB allocates little).
            long cap = expected + 1;
            expectedPlusOne = cap;
            var output = new MemoryStream((int)Math.Min(cap, Math.Max(trailerLength, 1u << 16)));
            output.Write(head, 0, got);
            var chunk = new byte[1 << 16];
            while (output.Length < cap)
            {
                int n = gzip.Read(chunk, 0, (int)Math.Min(chunk.Length, cap - output.Length));
                if (n == 0) break;
                output.Write(chunk, 0, n);
            }
            content = output.GetBuffer();
            length = (int)output.Length;
            if (headerRead && length == cap && gzip.ReadByte() >= 0)
                throw Bad(source, $"gzip content decompresses to more than the {expected:N0} bytes its IDX header promises (trailing " +
                    "garbage, or a gzip bomb)");
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DataFormatException($"{source}: corrupt or truncated gzip: {e.Message}", e);
        }

        var span = content.AsSpan(0, length);
        // A header Parse refuses, or one byte more than it promises (Parse: "trailing garbage"), needs no trailer check.
        if (!headerRead || length == expectedPlusOne) return span;
        // GZipStream returns short data without complaint when the file is cut, so check the trailer.
        if ((uint)length != trailerLength || Crc32.Compute(span) != trailerCrc)
            throw Bad(source, $"corrupt or truncated gzip: the trailer's length and CRC-32 do not match the {length} decompressed bytes " +
                "(a cut file, or a multi-member gzip, which is not read)");
        return span;
    }

    static int ReadAtMost(Stream s, byte[] buffer, int offset, int count)
    {
        int read = 0;
        while (read < count)
        {
            int n = s.Read(buffer, offset + read, count - read);
            if (n == 0) break;
            read += n;
        }
        return read;
    }

    private static string? TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => null,
    };

    private static DataFormatException Bad(string source, string cause) => new($"{source}: {cause}");
}
