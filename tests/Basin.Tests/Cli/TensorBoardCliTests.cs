using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>
/// `basin train --tensorboard DIR`: the event file is read back as TensorBoard reads it (TFRecord framing: length,
/// masked CRC-32C of the length, data, masked CRC-32C of the data; each record an Event protobuf) and holds the run
/// database's per-epoch figures.
/// </summary>
public class TensorBoardCliTests
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
    static List<byte[]> Records(byte[] file)
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
    static List<(int Field, int Wire, ulong Value, byte[] Bytes)> Fields(byte[] message)
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

    [Fact]
    public void TrainWritesTheEpochsFiguresAsTensorBoardScalars()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--samples", "64", "--test-samples", "32", "--model", "mlp:4",
            "--epochs", "2", "--tensorboard", "tb", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
        var files = Directory.GetFiles(Path.Combine(dir, "tb", id), "events.out.tfevents.*");
        Assert.Single(files);

        var events = Records(File.ReadAllBytes(files[0])).Select(Fields).ToList();
        // The first event names the file format; each other holds one scalar: (tag, step, value).
        Assert.Equal("brain.Event:2", Encoding.UTF8.GetString(events[0].Single(f => f.Field == 3).Bytes));
        var scalars = events.Skip(1).Select(e =>
        {
            var step = (long)e.Single(f => f.Field == 2).Value;
            var wallTime = BitConverter.UInt64BitsToDouble(e.Single(f => f.Field == 1).Value);
            Assert.InRange(wallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600);
            var value = Fields(Fields(e.Single(f => f.Field == 5).Bytes).Single(f => f.Field == 1).Bytes);
            var tag = Encoding.UTF8.GetString(value.Single(f => f.Field == 1).Bytes);
            var x = BitConverter.UInt32BitsToSingle((uint)value.Single(f => f.Field == 2).Value);
            return (Tag: tag, Step: step, Value: x);
        }).ToList();

        var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
        var epochs = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("epochs").EnumerateArray().ToList();
        var expected = epochs.SelectMany(e => new[]
        {
            ("loss/train", "trainLoss"), ("loss/test", "testLoss"), ("accuracy/train", "trainAccuracy"), ("accuracy/test", "testAccuracy"),
            ("gap/loss", "gap"), ("gap/accuracy", "accuracyGap"), ("learning_rate", "learningRate"),
        }.Select(t => (Tag: t.Item1, Step: (long)e.GetProperty("epoch").GetInt32(), Value: (float)e.GetProperty(t.Item2).GetDouble())))
            .ToList();
        Assert.Equal(14, expected.Count);
        Assert.Equal(expected, scalars);

        File.WriteAllText(Path.Combine(dir, "f"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:4", "--epochs", "1",
            "--tensorboard", "f"), "is a file");
    }
}
