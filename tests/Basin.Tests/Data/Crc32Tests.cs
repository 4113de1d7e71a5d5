using System.Text;
using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

public class Crc32Tests
{
    [Fact]
    public void KnownCheckValues()
    {
        Assert.Equal(0u, Crc32.Compute([]));
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789"))); // the standard check value
        Assert.Equal(0x414FA339u, Crc32.Compute(Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Fact]
    public void MatchesTheGzipTrailerForEveryLengthFrom1To40()
    {
        // Lengths around multiples of 8 exercise both the 8-byte steps and the tail.
        var random = new Random(1);
        for (var n = 1; n <= 40; n++)
        {
            var data = new byte[n];
            random.NextBytes(data);
            var gz = IdxFiles.Gzip(data);
            Assert.Equal(BitConverter.ToUInt32(gz, gz.Length - 8), Crc32.Compute(data));
        }
    }
}
