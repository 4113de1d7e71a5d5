using Basin.Experiments;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.IO;

/// <summary>
/// Reads and writes the safetensors format (the format PyTorch users share weights in):
/// an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian tensor bytes. An optional
/// "__metadata__" object holds string pairs. Every read is validated strictly.
/// </summary>
public static class SafeTensors
{
    const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Metadata key of the CRC-32 of the data section (written on request, verified on every read that finds it).</summary>
    public const string ChecksumKey = "basin.crc32";

    static readonly Dictionary<string, (ScalarType Type, int Size)> DtypeByName = new()
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Writes tensors (in the given order) and optional metadata to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, bool checksum = false)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        var meta = new JsonObject();
        // The checksum is this writer's to set: one copied from a file read earlier would not match the new data.
        if (metadata is { Count: > 0 })
            foreach (var (k, v) in metadata)
                if (k != ChecksumKey) meta[k] = v;
        long offset = 0;
        var blobs = new List<byte[]>(list.Count);
        var seen = new HashSet<string>();
        foreach (var (name, tensor) in list)
        {
            if (name == "__metadata__" || !seen.Add(name)) throw new BasinException("safetensors: duplicate or reserved " +
                $"tensor name '{name}'");
            var bytes = ToBytes(tensor, out var dtypeName);
            var shape = new JsonArray();
            foreach (var d in tensor.shape) shape.Add(d);
            header[name] = new JsonObject
            {
                ["dtype"] = dtypeName,
                ["shape"] = shape,
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        if (checksum)
        {
            uint crc = 0;
            foreach (var b in blobs) crc = Basin.Data.Crc32.Compute(b, crc);
            meta[ChecksumKey] = crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
        if (meta.Count > 0)
        {
            // __metadata__ first, as it was written before the checksum existed (readers do not depend on the order).
            var ordered = new JsonObject { ["__metadata__"] = meta };
            foreach (var (k, v) in header.ToList()) { header.Remove(k); ordered[k] = v; }
            header = ordered;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(headerBytes);
        foreach (var b in blobs) stream.Write(b);
    }

    /// <summary>Writes a file atomically: a temporary file is written, flushed to disk, then renamed.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, bool checksum = false) =>
        AtomicFile.Write(path, s => Write(s, tensors, metadata, checksum));

    /// <summary>Loads every tensor of a file (on CPU) and its metadata.</summary>
    public static SafeTensorsFile Load(string path)
    {
        using var fs = BoundedFile.OpenRead(path, long.MaxValue, "safetensors file");
        try { return Read(fs); }
        catch (DataFormatException e) { throw new DataFormatException($"{path}: {e.Message}", e); }
    }

    /// <summary>Reads a whole safetensors stream, validating the header against the data length.</summary>
    public static SafeTensorsFile Read(Stream stream)
    {
        var lenBytes = new byte[8];
        if (ReadFully(stream, lenBytes) < 8) throw new DataFormatException("not a safetensors file: shorter than its 8-byte header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen == 0 || headerLen > (ulong)MaxHeaderBytes) throw new DataFormatException("not a safetensors file: header length " +
            $"{headerLen} is implausible");
        var headerBytes = new byte[headerLen];
        if (ReadFully(stream, headerBytes) < (int)headerLen) throw new DataFormatException("truncated safetensors header");
        List<KeyValuePair<string, JsonNode?>> header;
        try
        {
            var root = JsonNode.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' ', '\0')) as JsonObject
                       ?? throw new DataFormatException("safetensors header is not a JSON object");
            // JsonObject reports duplicate names lazily (ArgumentException), so enumerate it here.
            header = root.ToList();
        }
        catch (JsonException e) { throw new DataFormatException($"safetensors header is not valid JSON: {e.Message}"); }
        catch (ArgumentException e) { throw new DataFormatException($"safetensors header repeats a name: {e.Message}"); }

        using var rest = new MemoryStream();
        stream.CopyTo(rest);
        var data = rest.GetBuffer().AsSpan(0, (int)rest.Length);

        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, ScalarType Type, int Size, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject m) throw new DataFormatException("__metadata__ must be an object of strings");
                foreach (var (k, v) in m)
                    metadata[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s)
                        ? s : throw new DataFormatException($"__metadata__ value for '{k}' is not a string");
                continue;
            }
            if (node is not JsonObject t) throw new DataFormatException($"tensor '{name}': entry is not an object");
            var dtype = t["dtype"] is JsonValue dv && dv.TryGetValue<string>(out var dts)
                ? dts : throw new DataFormatException($"tensor '{name}': dtype is missing or not a string");
            if (!DtypeByName.TryGetValue(dtype, out var dt)) throw new DataFormatException($"tensor '{name}': unsupported dtype {dtype}");
            var shape = (t["shape"] as JsonArray ?? throw new DataFormatException($"tensor '{name}': missing shape"))
                .Select(d => d is JsonValue v && v.TryGetValue<long>(out var x) && x >= 0
                    ? x : throw new DataFormatException($"tensor '{name}': bad shape entry")).ToArray();
            var offs = t["data_offsets"] as JsonArray;
            if (offs is not { Count: 2 }) throw new DataFormatException($"tensor '{name}': data_offsets must be [begin, end]");
            if (offs[0] is not JsonValue bv || !bv.TryGetValue<long>(out var begin) || offs[1] is not JsonValue ev
                || !ev.TryGetValue<long>(out var end))
                throw new DataFormatException($"tensor '{name}': data_offsets must be two integers");
            long expected;
            try { expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * dt.Size); }
            catch (OverflowException) { throw new DataFormatException($"tensor '{name}': shape [{string.Join(",", shape)}] " +
                "is implausibly large"); }
            if (begin < 0 || end < begin || end > data.Length)
                throw new DataFormatException($"tensor '{name}': byte range [{begin}, {end}) lies outside the {data.Length}-byte data " +
                    "section (file truncated?)");
            if (end - begin != expected)
                throw new DataFormatException($"tensor '{name}': shape [{string.Join(",", shape)}] of {dtype} needs {expected} bytes but " +
                    $"its range holds {end - begin}");
            entries.Add((name, dt.Type, dt.Size, shape, begin, end));
        }
        // The data section must be covered exactly, without overlaps or holes.
        long cursor = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin != cursor) throw new DataFormatException($"tensor '{e.Name}': data ranges overlap or leave a gap at byte {cursor}");
            cursor = e.End;
        }
        if (cursor != data.Length) throw new DataFormatException($"data section has {data.Length} bytes but tensors cover {cursor}");
        if (metadata.TryGetValue(ChecksumKey, out var expectedCrc))
        {
            var actual = Basin.Data.Crc32.Compute(data).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
            if (!string.Equals(actual, expectedCrc, StringComparison.OrdinalIgnoreCase))
                throw new DataFormatException($"the data section's CRC-32 is {actual} but the file records {expectedCrc}: the file is " +
                    "damaged (a flipped bit or a partial write)");
        }

        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in entries)
            tensors[e.Name] = FromBytes(data.Slice((int)e.Begin, (int)(e.End - e.Begin)), e.Type, e.Shape);
        return new SafeTensorsFile(tensors, metadata);
    }

    static int ReadFully(Stream s, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer, total, buffer.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    static byte[] ToBytes(Tensor tensor, out string dtypeName)
    {
        using var t = tensor.detach().cpu().contiguous();
        var entry = DtypeByName.FirstOrDefault(kv => kv.Value.Type == t.dtype);
        if (entry.Key is null) throw new BasinException($"safetensors: unsupported tensor dtype {t.dtype}");
        dtypeName = entry.Key;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O needs a little-endian machine");
        return t.dtype switch
        {
            ScalarType.Float64 => MemoryMarshal.AsBytes(t.data<double>().ToArray().AsSpan()).ToArray(),
            ScalarType.Float32 => MemoryMarshal.AsBytes(t.data<float>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int64 => MemoryMarshal.AsBytes(t.data<long>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int32 => MemoryMarshal.AsBytes(t.data<int>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int16 => MemoryMarshal.AsBytes(t.data<short>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int8 => MemoryMarshal.AsBytes(t.data<sbyte>().ToArray().AsSpan()).ToArray(),
            ScalarType.Byte => t.data<byte>().ToArray(),
            ScalarType.Bool => t.data<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
            ScalarType.Float16 or ScalarType.BFloat16 => ToBytesViaInt16(t),
            _ => throw new BasinException($"safetensors: unsupported tensor dtype {t.dtype}"),
        };
    }

    // Half-precision values are exact in float32, so convert through it and pack the bits.
    static byte[] ToBytesViaInt16(Tensor t)
    {
        using var f = t.to_type(ScalarType.Float32);
        var values = f.data<float>().ToArray();
        var bits = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
            bits[i] = t.dtype == ScalarType.Float16
                ? BitConverter.HalfToUInt16Bits((Half)values[i])
                : (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16);
        return MemoryMarshal.AsBytes(bits.AsSpan()).ToArray();
    }

    static Tensor FromHalfBits(ReadOnlySpan<byte> bytes, ScalarType type, long[] shape)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
        var values = new float[bits.Length];
        for (int i = 0; i < bits.Length; i++)
            values[i] = type == ScalarType.Float16
                ? (float)BitConverter.UInt16BitsToHalf(bits[i])
                : BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
        using var f = torch.tensor(values, shape);
        return f.to_type(type);
    }

    static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType type, long[] shape) => type switch
    {
        ScalarType.Float64 => torch.tensor(MemoryMarshal.Cast<byte, double>(bytes).ToArray(), shape),
        ScalarType.Float32 => torch.tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape),
        ScalarType.Int64 => torch.tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape),
        ScalarType.Int32 => torch.tensor(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), shape),
        ScalarType.Int16 => torch.tensor(MemoryMarshal.Cast<byte, short>(bytes).ToArray(), shape),
        ScalarType.Int8 => torch.tensor(MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(), shape),
        ScalarType.Byte => torch.tensor(bytes.ToArray(), shape),
        ScalarType.Bool => torch.tensor(bytes.ToArray().Select(b => b != 0).ToArray(), shape),
        ScalarType.Float16 or ScalarType.BFloat16 => FromHalfBits(bytes, type, shape),
        _ => throw new DataFormatException($"unsupported dtype {type}"),
    };
}

/// <summary>The tensors (by name, in file order) and string metadata of a safetensors file.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    public SafeTensorsFile(Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyDictionary<string, Tensor> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
