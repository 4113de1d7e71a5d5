using Basin.Experiments.Robustness;
using Basin.Robustness;
using Xunit;

namespace Basin.Tests.Robustness;

/// <summary>Average-linkage merges on hand-made distances, leaf order, and the points of the polar scatter.</summary>
public class DendrogramTests
{
    [Fact]
    public void AverageLinkageMergesTheClosestPairsInOrder()
    {
        // 1 − agreement of four methods: A–B 0.1, C–D 0.2; then {A,B}–{C,D} = mean(0.5, 0.6, 0.4, 0.7).
        var d = new double[,] { { 0, 0.1, 0.5, 0.6 }, { 0.1, 0, 0.4, 0.7 }, { 0.5, 0.4, 0, 0.2 }, { 0.6, 0.7, 0.2, 0 } };
        var merges = Dendrogram.Cluster(d);
        Assert.Equal(3, merges.Count);
        Assert.Equal(new DendrogramMerge(0, 1, 0.1, 2), merges[0]);
        Assert.Equal(new DendrogramMerge(2, 3, 0.2, 2), merges[1]);
        Assert.Equal((4, 5, 4), (merges[2].Left, merges[2].Right, merges[2].Size));
        Assert.Equal((0.5 + 0.6 + 0.4 + 0.7) / 4, merges[2].Height);
        Assert.Equal([0, 1, 2, 3], Dendrogram.LeafOrder(merges, 4));
    }

    [Fact]
    public void TheLinkageIsTheAverageNotTheNearestPair()
    {
        // After A–B (0.1): C is 0.3 from A but 0.9 from B (average 0.6), D is 0.55 from both, and C–D is 0.5. Single linkage
        // would join C to {A,B} at 0.3; average linkage joins C and D at 0.5, then everything at mean(0.3, 0.55, 0.9, 0.55).
        var d = new double[,] { { 0, 0.1, 0.3, 0.55 }, { 0.1, 0, 0.9, 0.55 }, { 0.3, 0.9, 0, 0.5 }, { 0.55, 0.55, 0.5, 0 } };
        var merges = Dendrogram.Cluster(d);
        Assert.Equal(new DendrogramMerge(0, 1, 0.1, 2), merges[0]);
        Assert.Equal(new DendrogramMerge(2, 3, 0.5, 2), merges[1]);
        Assert.Equal((0.3 + 0.55 + 0.9 + 0.55) / 4, merges[2].Height);
    }

    [Fact]
    public void TiesGoToTheLowestPairAndTheLeafOrderFollowsTheMerges()
    {
        var d = new double[,] { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } };
        var merges = Dendrogram.Cluster(d);
        Assert.Equal([new DendrogramMerge(0, 1, 1, 2), new DendrogramMerge(2, 3, 1, 3)], merges);
        Assert.Equal([2, 0, 1], Dendrogram.LeafOrder(merges, 3));
        Assert.Empty(Dendrogram.Cluster(new double[,] { { 0 } }));
        Assert.Equal([0], Dendrogram.LeafOrder([], 1));
    }

    [Fact]
    public void BadDistancesAreRefused()
    {
        Assert.Contains("symmetric", Assert.Throws<BasinException>(() => Dendrogram.Cluster(new double[,] { { 0, 1 }, { 2, 0 } })).Message);
        Assert.Contains("finite", Assert.Throws<BasinException>(() =>
            Dendrogram.Cluster(new double[,] { { 0, double.NaN }, { double.NaN, 0 } })).Message);
        Assert.Contains("square", Assert.Throws<BasinException>(() => Dendrogram.Cluster(new double[2, 3])).Message);
        Assert.Contains("3 leaves need 2 merges", Assert.Throws<BasinException>(() => Dendrogram.LeafOrder([], 3)).Message);
    }

    [Fact]
    public void ThePolarScatterKeepsFinitePairsAndStridesDownToTheLimit()
    {
        double[] theta = [10, double.NaN, 30, 40, 50, 60, 70];
        double[] norm = [1, 2, double.PositiveInfinity, 4, 5, 6, 7];
        Assert.Equal([(10.0, 1.0), (40.0, 4.0), (50.0, 5.0), (60.0, 6.0), (70.0, 7.0)], RobustnessPlot.PolarPoints(theta, norm, 10));
        // 5 finite points, at most 2: every 3rd (k = ⌈5/2⌉).
        Assert.Equal([(10.0, 1.0), (60.0, 6.0)], RobustnessPlot.PolarPoints(theta, norm, 2));
        var many = Enumerable.Range(0, 50_001).Select(i => (double)i).ToArray();
        Assert.Equal(16_667, RobustnessPlot.PolarPoints(many, many, RobustnessPlot.MaxPolarPoints).Length);   // k = 3
    }
}
