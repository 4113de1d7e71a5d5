using Basin.Training.PerExample;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

public class WinsorizedMeanTests
{
    // By hand: sort each column, replace the c lowest by the (c+1)-th and the c highest by the (c+1)-th from the top, average.
    static double[] BySorting(float[,] table, int c)
    {
        int b = table.GetLength(0), p = table.GetLength(1);
        var expected = new double[p];
        for (int j = 0; j < p; j++)
        {
            var v = Enumerable.Range(0, b).Select(i => (double)table[i, j]).Order().ToArray();
            for (int k = 0; k < c; k++) { v[k] = v[c]; v[b - 1 - k] = v[b - 1 - c]; }
            expected[j] = v.Average();
        }
        return expected;
    }

    static float[,] RandomTable(int b, int p, int seed, bool ties)
    {
        var random = new Random(seed);
        var table = new float[b, p];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < p; j++)
                table[i, j] = ties ? random.Next(-3, 4) : (float)(random.NextDouble() * 2 - 1) * (j % 3 == 0 ? 1e-3f : 10f);
        return table;
    }

    [Theory]
    [InlineData(3, 1, 1, false)]      // b = 2c + 1: every value becomes the median
    [InlineData(9, 4, 37, true)]      // b = 2c + 1 with ties, a width that is no multiple of the vector width
    [InlineData(128, 1, 1100, false)] // several column blocks and a ragged last block
    [InlineData(128, 4, 1030, true)]
    [InlineData(20, 2, 512, true)]    // exactly one block
    public void OnePassEqualsSortingEachColumn(int b, int c, int p, bool ties)
    {
        var table = RandomTable(b, p, seed: b * 31 + c, ties);
        using var rows = tensor(table);
        using var got = WinsorizedMean.Compute(rows, c);
        var expected = BySorting(table, c);
        Assert.Equal(new long[] { p }, got.shape);
        var values = got.data<float>().ToArray();
        for (int j = 0; j < p; j++)
            Assert.True(Math.Abs(values[j] - expected[j]) <= 1e-5 * (1 + Math.Abs(expected[j])), $"column {j}: {values[j]} vs {expected[j]}");
    }

    [Fact]
    public void OnePassAgreesWithTopKAndReadsNonContiguousInput()
    {
        var table = RandomTable(64, 700, seed: 3, ties: false);
        using var rows = tensor(table);
        using var transposedTwice = rows.t().contiguous().t();   // same values, column-major storage
        using var fast = WinsorizedMean.Compute(transposedTwice, 3);
        using var reference = WinsorizedMean.WithTopK(rows.to_type(ScalarType.Float64), 3);
        Assert.True(fast.to_type(ScalarType.Float64).sub(reference).abs().max().item<double>() < 1e-5);
    }

    [Fact]
    public void Float64TakesTheTopKPathWithTheSameValues()
    {
        var table = RandomTable(10, 50, seed: 4, ties: true);
        using var rows = tensor(table).to_type(ScalarType.Float64);
        using var got = WinsorizedMean.Compute(rows, 2);
        Assert.Equal(ScalarType.Float64, got.dtype);
        var expected = BySorting(table, 2);
        var values = got.data<double>().ToArray();
        for (int j = 0; j < 50; j++) Assert.Equal(expected[j], values[j], 12);
    }

    [Fact]
    public void CZeroIsTheMeanAndTooLargeCIsAnError()
    {
        using var rows = tensor(new float[,] { { 1, 2 }, { 3, 10 }, { 5, 0 } });
        using var mean = WinsorizedMean.Compute(rows, 0);
        Assert.Equal(new float[] { 3, 4 }, mean.data<float>().ToArray());
        var e = Assert.Throws<BasinException>(() => WinsorizedMean.Compute(rows, 2));
        Assert.Contains("0 ≤ c < 2", e.Message);
        Assert.Throws<BasinException>(() => WinsorizedMean.Compute(rows.reshape(6), 1));
    }
}
