using Basin.Measures;
using Xunit;

namespace Basin.Tests.Measures;

public class CorrelationTests
{
    [Fact]
    public void KendallTauMatchesHandCountsWithoutTies()
    {
        // Of the 6 pairs only (2,3) is discordant: τ = (5 − 1)/6.
        Assert.Equal(2.0 / 3, KendallTau.TauB([1, 2, 3, 4], [1, 3, 2, 4]), 12);
        Assert.Equal(-1, KendallTau.TauB([1, 2, 3], [3, 2, 1]), 12);
        Assert.Equal(1, KendallTau.TauB([1, 2, 3], [10, 20, 30]), 12);
    }

    [Fact]
    public void KendallTauBCorrectsForTies()
    {
        // x ties one pair (2,3), y ties one pair (3,4); the other 4 pairs are concordant: τ_b = 4/√(5·5) = 0.8 (scipy gives 0.8).
        Assert.Equal(0.8, KendallTau.TauB([1, 2, 2, 3], [1, 2, 3, 3]), 12);
        // A pair tied in both counts in both corrections: x=[1,1,2], y=[5,5,6]: n_c = 2, n₀ = 3, n_x = n_y = 1 → 2/2 = 1.
        Assert.Equal(1, KendallTau.TauB([1, 1, 2], [5, 5, 6]), 12);
        Assert.True(double.IsNaN(KendallTau.TauB([1, 1, 1], [1, 2, 3])));     // all x tied: undefined
        Assert.Equal(1, KendallTau.TauB([1, double.NaN, 3, double.PositiveInfinity], [1, 0, 2, 9]), 12); // NaN pair left out, +∞ ranks top
    }

    static ScoredModel Model(string lr, string bs, double measure, double gap) =>
        new(new Dictionary<string, string> { ["lr"] = lr, ["bs"] = bs }, measure, gap);

    [Fact]
    public void GranulatedPsiAveragesTauWithinGroupsThatDifferInOneAxis()
    {
        var models = new[] { Model("a", "1", 1, 1), Model("b", "1", 2, 2), Model("a", "2", 3, 4), Model("b", "2", 4, 3) };
        var s = GranulatedKendall.Score(models, ["lr", "bs"]);
        Assert.Equal(0, s.PerAxis["lr"], 12);          // bs=1 group: τ = 1; bs=2 group: τ = −1
        Assert.Equal(1, s.PerAxis["bs"], 12);          // both lr groups concordant
        Assert.Equal(0.5, s.Psi, 12);
        Assert.Equal(2, s.Groups["lr"]);
        Assert.Equal(4.0 / 6, KendallTau.TauB(models.Select(m => m.Measure).ToArray(), models.Select(m => m.Gap).ToArray()), 12);

        // A group whose gaps tie has no τ and is skipped, not counted as 0.
        var tied = new[] { Model("a", "1", 1, 1), Model("b", "1", 2, 2), Model("a", "2", 3, 3), Model("b", "2", 4, 3) };
        var t = GranulatedKendall.Score(tied, ["lr", "bs"]);
        Assert.Equal(1, t.PerAxis["lr"], 12);
        Assert.Equal(1, t.Groups["lr"]);
    }

    [Fact]
    public void ConditionalMutualInformationIsOneForAPerfectMeasureAndZeroForAConstantOne()
    {
        var models = new[] { Model("a", "1", 1, 1), Model("b", "1", 2, 2), Model("a", "2", 3, 4), Model("b", "2", 4, 3), Model("c", "1", 0.5, 0.2) };
        var perfect = models.Select(m => m with { Measure = m.Gap }).ToArray();
        Assert.Equal(1, ConditionalMutualInformation.Score(perfect, ["lr", "bs"]), 9);
        var constant = models.Select(m => m with { Measure = 7 }).ToArray();
        Assert.Equal(0, ConditionalMutualInformation.Score(constant, ["lr", "bs"]), 9);
        // I(X;Y) by hand: X = Y uniform over two values → ln 2.
        Assert.Equal(Math.Log(2), ConditionalMutualInformation.MutualInformation([(0, 0), (1, 1), (0, 0), (1, 1)]), 12);
    }
}
