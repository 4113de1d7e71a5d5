using System.Buffers.Binary;
using System.Text;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>A scalar read back from an event file.</summary>
public sealed record TensorBoardScalar(string Tag, long Step, float Value);

/// <summary>A histogram read back from an event file (the HistogramProto's summary fields).</summary>
public sealed record TensorBoardHistogram(string Tag, long Step, double Min, double Max, double Num, double Sum, double SumSquares,
    IReadOnlyList<double> BucketLimits, IReadOnlyList<double> Buckets);

/// <summary>
/// Reads TensorBoard event files as TensorBoard does: TFRecord framing (length, masked CRC-32C of the length, data,
/// masked CRC-32C of the data), each record an Event protobuf, decoded field by field without a protobuf library.
/// </summary>
public static class TensorBoardEvents
{
    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit.</summary>
    static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    static uint Masked(ReadOnlySpan<byte> data)
    {
        var c = Crc32C(data);
        return ((c >> 15) | (c << 17)) + 0xa282ead8;
    }

    /// <summary>The records of a TFRecord file, each CRC checked.</summary>
    public static List<byte[]> Records(byte[] file)
    {
        var records = new List<byte[]>();
        int at = 0;
        while (at < file.Length)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at, 8));
            Assert.Equal(Masked(file.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8, 4)));
            var data = file.AsSpan(at + 12, (int)length);
            Assert.Equal(Masked(data), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 12 + (int)length, 4)));
            records.Add(data.ToArray());
            at += 16 + (int)length;
        }
        Assert.Equal(file.Length, at);
        return records;
    }

    static ulong Varint(byte[] b, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte x = b[at++];
            v |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80) return v;
        }
    }

    /// <summary>The fields of a protobuf message: (number, wire type, varint or fixed value, bytes of a length-delimited one).</summary>
    public static List<(int Field, int Wire, ulong Value, byte[] Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, int, ulong, byte[])>();
        int at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: fields.Add((field, wire, Varint(message, ref at), [])); break;
                case 1: fields.Add((field, wire, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(at, 8)), [])); at += 8; break;
                case 5: fields.Add((field, wire, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(at, 4)), [])); at += 4; break;
                case 2:
                    int n = (int)Varint(message, ref at);
                    fields.Add((field, wire, 0, message[at..(at + n)]));
                    at += n;
                    break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }
        return fields;
    }

    /// <summary>The one event file in <paramref name="folder"/>.</summary>
    public static string SingleFile(string folder)
    {
        var files = Directory.GetFiles(folder, "events.out.tfevents.*");
        Assert.Single(files);
        return files[0];
    }

    /// <summary>
    /// The Event records of a file after the first, which must name the file format; each has a plausible wall time.
    /// Each is returned as (step, Summary.Value fields).
    /// </summary>
    static List<(long Step, List<(int Field, int Wire, ulong Value, byte[] Bytes)> Value)> Values(string file)
    {
        var events = Records(File.ReadAllBytes(file)).Select(Fields).ToList();
        Assert.Equal("brain.Event:2", Encoding.UTF8.GetString(events[0].Single(f => f.Field == 3).Bytes));
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return events.Skip(1).Select(e =>
        {
            var wallTime = BitConverter.UInt64BitsToDouble(e.Single(f => f.Field == 1).Value);
            Assert.InRange(wallTime, now - 3600, now + 3600);
            // Event: 2 step; 5 summary. Summary: 1 value. Value: 1 tag, 2 simple_value, 5 histo.
            var summary = Fields(e.Single(f => f.Field == 5).Bytes);
            return ((long)e.Single(f => f.Field == 2).Value, Fields(summary.Single(f => f.Field == 1).Bytes));
        }).ToList();
    }

    static string Tag(List<(int Field, int Wire, ulong Value, byte[] Bytes)> value) =>
        Encoding.UTF8.GetString(value.Single(f => f.Field == 1).Bytes);

    /// <summary>The scalars of an event file, in order.</summary>
    public static List<TensorBoardScalar> Scalars(string file) =>
        Values(file).Where(v => v.Value.Any(f => f.Field == 2))
            .Select(v => new TensorBoardScalar(Tag(v.Value), v.Step,
                BitConverter.UInt32BitsToSingle((uint)v.Value.Single(f => f.Field == 2).Value)))
            .ToList();

    /// <summary>The histograms of an event file, in order.</summary>
    public static List<TensorBoardHistogram> Histograms(string file) =>
        Values(file).Where(v => v.Value.Any(f => f.Field == 5)).Select(v =>
        {
            // HistogramProto: 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (doubles); 6 bucket_limit, 7 bucket (packed doubles).
            var h = Fields(v.Value.Single(f => f.Field == 5).Bytes);
            double D(int field) => h.Where(f => f.Field == field).Select(f => BitConverter.UInt64BitsToDouble(f.Value)).SingleOrDefault();
            List<double> Packed(int field) => h.Where(f => f.Field == field).SelectMany(f => f.Wire == 2
                ? Enumerable.Range(0, f.Bytes.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(f.Bytes.AsSpan(8 * i, 8)))
                : [BitConverter.UInt64BitsToDouble(f.Value)]).ToList();
            return new TensorBoardHistogram(Tag(v.Value), v.Step, D(1), D(2), D(3), D(4), D(5), Packed(6), Packed(7));
        }).ToList();
}
