using Basin.Symbolic;
using Xunit;

namespace Basin.Tests.Symbolic;

public class GraphStatisticsTests
{
    [Theory]
    [InlineData("edge", 2, 1, 0, 1, 1.0)]
    [InlineData("path4", 4, 3, 0, 3, 1.5)]
    [InlineData("path8", 8, 7, 0, 7, 1.75)]
    [InlineData("star8", 8, 7, 0, 2, 1.75)]
    [InlineData("cycle4", 4, 4, 1, 2, 2.0)]
    [InlineData("cycle8", 8, 8, 1, 4, 2.0)]
    [InlineData("complete4", 4, 6, 3, 1, 3.0)]
    [InlineData("tree7", 7, 6, 0, 4, 12.0 / 7)]
    [InlineData("tree15", 15, 14, 0, 6, 28.0 / 15)]
    public void TheControlGraphsHaveTheirTextbookStatistics(string name, int nodes, int edges, int cycles, int diameter, double degree)
    {
        var s = GraphStatistics.Of(CanonicalGraphs.Get(name));
        Assert.Equal((nodes, edges, cycles, diameter, nodes + edges), (s.Nodes, s.Edges, s.Cycles, s.Diameter, s.Elements));
        Assert.Equal(degree, s.MeanDegree, 12);
    }

    [Fact]
    public void ADisconnectedGraphCountsCyclesPerComponentAndItsLongestPath()
    {
        // Two components: a triangle (0-1-2) and a path 3-4-5; ids of edges follow the nodes.
        var edges = new[] { (0, 1), (1, 2), (0, 2), (3, 4), (4, 5) }
            .Select((p, k) => new GraphEdge(6 + k, p.Item1, k % 2, p.Item2, (k + 1) % 2)).ToList();
        var s = GraphStatistics.Of(new ElementGraph([0, 1, 2, 3, 4, 5], edges, 4));
        Assert.Equal((6, 5, 1, 2), (s.Nodes, s.Edges, s.Cycles, s.Diameter));
    }
}
