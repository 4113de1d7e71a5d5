using Basin.Models;
using Basin.Pruning;
using Xunit;

namespace Basin.Tests.Pruning;

/// <summary>The search logic of node random search: seeds, the pick, epochs to threshold and the bootstrap intervals.</summary>
public class NodeSearchTests
{
    [Fact]
    public void TheBestScoreIsTheArgminWithTiesToTheLowerIndexAndNaNNeverWins()
    {
        Assert.Equal(2, NodeSearch.Best([0.9, 0.7, 0.5, 0.5, 0.8]));
        Assert.Equal(0, NodeSearch.Best([0.9, 0.7, 0.9], higherIsBetter: true));
        Assert.Equal(1, NodeSearch.Best([double.NaN, 3.0, double.NaN, 4.0]));
        Assert.Equal(0, NodeSearch.Best([double.NaN, double.NaN]));
        Assert.Equal(0, NodeSearch.Best([2.0]));   // K = 1: the search's pick is its only candidate
        Assert.Throws<BasinException>(() => NodeSearch.Best([]));
    }

    [Fact]
    public void MaskSeedsAreDeterministicAndIndependentAcrossRolesSparsitiesAndIndices()
    {
        var seeds = new HashSet<long>();
        foreach (var role in new[] { NodeSearch.Role.Candidate, NodeSearch.Role.Random })
            foreach (var s in new[] { 0.5, 0.75, 0.9 })
                for (int i = 0; i < 20; i++)
                {
                    long seed = NodeSearch.MaskSeed(7, s, role, i);
                    Assert.Equal(seed, NodeSearch.MaskSeed(7, s, role, i));
                    Assert.True(seeds.Add(seed));
                }
        var candidate = NodeSearch.Role.Candidate;
        Assert.NotEqual(NodeSearch.MaskSeed(7, 0.5, candidate, 0), NodeSearch.MaskSeed(8, 0.5, candidate, 0));
    }

    [Fact]
    public void ACandidateMaskKeepsExactlyKUnitsPerLayerAndFollowsItsSeed()
    {
        using var model = ModelSpec.Create("mlp:16,16", [1, 28, 28], 10, 1);
        long seed = NodeSearch.MaskSeed(3, 0.75, NodeSearch.Role.Candidate, 0);
        var (a, na) = NodePruning.ToSparsity(model, 0.75, seed);
        var (b, _) = NodePruning.ToSparsity(model, 0.75, seed);
        var (c, _) = NodePruning.ToSparsity(model, 0.75, NodeSearch.MaskSeed(3, 0.75, NodeSearch.Role.Candidate, 1));
        using (a) using (b) using (c)
        {
            Assert.Equal([4, 4], na.Layers.Select(l => l.Kept));
            // Weights kept: 784·4 + 4·4 + 4·10 = 3,192 of 784·16 + 16·16 + 16·10 = 12,960.
            Assert.Equal(1 - 3192.0 / 12960, na.ParameterSparsity, 12);
            Assert.Equal(a.Keep("fc1.bias").data<float>().ToArray(), b.Keep("fc1.bias").data<float>().ToArray());
            Assert.Equal(4, a.Keep("fc1.bias").data<float>().Count(v => v == 1));
            Assert.NotEqual(a.Keep("fc2.bias").data<float>().ToArray(), c.Keep("fc2.bias").data<float>().ToArray());
        }
    }

    [Fact]
    public void TheDiagnosticSpreadsOverTheScoreRankingAndSpearmanUsesMidRanks()
    {
        double[] scores = [0.5, 0.1, 0.9, 0.3, 0.7];   // ranking, best (lowest) first: 1, 3, 0, 4, 2
        Assert.Equal([1, 0, 2], NodeSearch.SpreadOverScores(scores, 3));
        Assert.Equal([2, 0, 1], NodeSearch.SpreadOverScores(scores, 3, higherIsBetter: true));
        Assert.Equal([1, 3, 0, 4, 2], NodeSearch.SpreadOverScores(scores, 9));
        Assert.Equal([1], NodeSearch.SpreadOverScores(scores, 1));
        Assert.Equal(-1, NodeSearch.Spearman([1, 2, 3, 4], [0.9, 0.8, 0.5, 0.1]), 12);
        // Mid-ranks: x = (1, 2, 2, 3) has ranks (1, 2.5, 2.5, 4); y ranks (1, 2, 3, 4); Pearson = 4.5/√(4.5·5).
        Assert.Equal(4.5 / Math.Sqrt(4.5 * 5), NodeSearch.Spearman([1, 2, 2, 3], [10, 20, 30, 40]), 12);
    }

    [Fact]
    public void EpochsToThresholdIsTheFirstEpochReachingIt()
    {
        Assert.Equal(3, NodeSearch.EpochsToThreshold([0.5, 0.7, 0.9, 0.95], 0.9));
        Assert.Equal(1, NodeSearch.EpochsToThreshold([0.95], 0.9));
        Assert.Null(NodeSearch.EpochsToThreshold([0.5, 0.6], 0.9));
    }

    [Fact]
    public void BootstrapIntervalsAreExactInDegenerateCasesAndBracketTheMean()
    {
        var point = NodeSearch.MinusMean(0.8, [0.7, 0.7, 0.7]);
        Assert.Equal(0.1, point.Estimate, 12);
        Assert.Equal(0.1, point.Low, 12);
        Assert.Equal(0.1, point.High, 12);
        double[] values = [0.60, 0.62, 0.65, 0.70, 0.71];
        var mean = NodeSearch.Mean(values, 2000, 1);
        Assert.Equal(0.656, mean.Estimate, 12);
        Assert.InRange(mean.Low, 0.60, 0.656);
        Assert.InRange(mean.High, 0.656, 0.71);
        Assert.Equal(mean, NodeSearch.Mean(values, 2000, 1));   // seeded: repeatable
        var diff = NodeSearch.MinusMean(0.75, values, 2000, 1);
        // The same resamples: the difference's interval is the mean's, mirrored.
        Assert.Equal((0.75 - mean.High, 0.75 - mean.Low), (diff.Low, diff.High));
    }
}
