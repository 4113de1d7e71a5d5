using Basin.Tightness;
using Xunit;

namespace Basin.Tests.Tightness;

public class ParityTradeoffTests
{
    /// <summary>P(rank = r) by enumerating all 2^{d·m} matrices.</summary>
    static double[] BruteForceRanks(int d, int m)
    {
        var counts = new long[d + 1];
        long total = 1L << (d * m);
        var rows = new ulong[m];
        ulong mask = (1UL << d) - 1;
        for (long code = 0; code < total; code++)
        {
            for (int i = 0; i < m; i++) rows[i] = ((ulong)code >> (i * d)) & mask;
            counts[Gf2Elimination.Rank(rows, d)]++;
        }
        return counts.Select(c => (double)c / total).ToArray();
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(4, 4)]
    [InlineData(3, 5)]
    [InlineData(2, 1)]
    [InlineData(5, 0)]
    public void RankRecursionEqualsEnumeration(int d, int m)
    {
        var exact = ParityRank.Distribution(d, m);
        var counted = BruteForceRanks(d, m);
        for (int r = 0; r <= d; r++) Assert.Equal(counted[r], exact[r], 15);
    }

    [Fact]
    public void FullRankProbabilities()
    {
        Assert.Equal(0.3076171875, ParityRank.Distribution(4, 4)[4], 15);
        Assert.Equal(0.3076171875, ParityRank.FullRankSquare(4), 15);
        Assert.Equal(0.288788, ParityRank.FullRankSquare(20), 6);
        Assert.Equal(ParityRank.FullRankSquare(20), ParityRank.Distribution(20, 20)[20], 14);
    }

    [Fact]
    public void EliminationFindsAConsistentParityAndTheTargetAtFullRank()
    {
        var random = new Random(5);
        const int d = 12;
        ulong mask = (1UL << d) - 1;
        int fullRank = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            ulong a = (ulong)random.NextInt64() & mask;
            int m = random.Next(1, 20);
            var rows = Enumerable.Range(0, m).Select(_ => (ulong)random.NextInt64() & mask).ToArray();
            var labels = rows.Select(x => Gf2Elimination.Parity(a, x)).ToArray();
            var s = Gf2Elimination.Solve(rows, labels, d);
            Assert.True(s.Consistent);
            for (int i = 0; i < m; i++) Assert.Equal(labels[i], Gf2Elimination.Parity(s.Coefficients, rows[i]));
            if (s.Rank == d) { fullRank++; Assert.Equal(a, s.Coefficients); }
        }
        Assert.True(fullRank > 20, $"only {fullRank} full-rank trials");
    }

    [Fact]
    public void FreeVariablesAreZero()
    {
        // x = (1,1,0) with label 1: the pivot is bit 0, bits 1 and 2 are free, so a' = (1,0,0).
        var s = Gf2Elimination.Solve([0b011UL], [true], 3);
        Assert.Equal(0b001UL, s.Coefficients);
        Assert.Equal(1, s.Rank);
        // Contradictory equations are reported.
        Assert.False(Gf2Elimination.Solve([0b01UL, 0b01UL], [true, false], 2).Consistent);
    }

    // d = 20. Rows m ≤ 20 are the published table's (3 digits). Its rows m ≥ 21 were Monte Carlo and m = 25 is off by
    // 2 standard errors there (0.989 vs exact 0.9845), so those rows hold exact values from an independent float64
    // script running the same recursion (5 digits).
    [Theory]
    [InlineData(10, 0.001, 0.4995, 0.0005, 3)]
    [InlineData(15, 0.031, 0.485, 0.015, 3)]
    [InlineData(18, 0.221, 0.390, 0.110, 3)]
    [InlineData(19, 0.390, 0.305, 0.195, 3)]
    [InlineData(20, 0.610, 0.195, 0.161, 3)]
    [InlineData(20, 0.61032, 0.19484, 0.16077, 5)]
    [InlineData(21, 0.77936, 0.11032, 0.10089, 5)]
    [InlineData(22, 0.88257, 0.05871, 0.05624, 5)]
    [InlineData(25, 0.98450, 0.00775, 0.00771, 5)]
    [InlineData(30, 0.99951, 0.00024, 0.00024, 5)]
    public void TableForD20(int m, double exact, double loss, double bound, int digits)
    {
        var row = ParityTradeoff.Exact(20, m);
        double tolerance = 0.5 * Math.Pow(10, -digits) + 1e-9;
        Assert.InRange(row.ExactProbability, exact - tolerance, exact + tolerance);
        Assert.InRange(row.ExpectedLoss, loss - tolerance, loss + tolerance);
        Assert.InRange(row.LeastBoundError, bound - tolerance, bound + tolerance);
        Assert.Equal(0.5 * (1 - row.ExactProbability), row.ExpectedLoss, 12);
    }

    [Fact]
    public void TheLeastBoundErrorPeaksAtTheLearningThreshold()
    {
        var errors = Enumerable.Range(1, 40).Select(m => (m, ParityTradeoff.Exact(20, m).LeastBoundError)).ToArray();
        Assert.Equal(19, errors.MaxBy(e => e.LeastBoundError).m);
    }

    [Theory]
    [InlineData(8, 6)]
    [InlineData(8, 8)]
    [InlineData(8, 10)]
    [InlineData(20, 20)]
    public void SimulationAgreesWithTheExactRow(int d, int m)
    {
        var exact = ParityTradeoff.Exact(d, m);
        var sim = ParityTradeoff.Simulate(d, m, 4000, seed: 3);
        Assert.True(sim.AlwaysConsistent);
        Assert.InRange(sim.MeanLoss, exact.ExpectedLoss - 4 * sim.MeanLossStandardError - 1e-9, exact.ExpectedLoss + 4 * sim.MeanLossStandardError + 1e-9);
        Assert.InRange(sim.MedianBoundError, exact.LeastBoundError - 4 * sim.MedianBoundErrorStandardError - 1e-9,
            exact.LeastBoundError + 4 * sim.MedianBoundErrorStandardError + 1e-9);
        Assert.Equal(1 - 2 * sim.MeanLoss, sim.ExactFraction, 12);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    public void DimensionOutOfRangeIsOneLineError(int d)
    {
        var e = Assert.Throws<BasinException>(() => ParityTradeoff.Exact(d, 5));
        Assert.Contains("from 1 to 62", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
