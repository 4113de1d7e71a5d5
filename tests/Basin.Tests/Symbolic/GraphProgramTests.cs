using Basin.Symbolic;
using Xunit;

namespace Basin.Tests.Symbolic;

/// <summary>Graph programs: parsing, running, sampling and the control graphs.</summary>
public class GraphProgramTests
{
    static int Degree(ElementGraph g, int node) => g.Edges.Count(e => e.A == node || e.B == node);

    [Fact]
    public void ProgramsBuildTheGraphsTheirWordsSay()
    {
        // extend: node 1 + edge 2 from node 0 (port 0); cursor on 1 at port 1. push; extend: node 3 + edge 4 from node 1.
        // pop: back to node 1 port 1 (busy now). next: port 2. add: node 5 + edge 6 at node 1 port 2.
        var g = GraphProgram.Parse("extend push extend pop next add").Run();
        Assert.Equal([0, 1, 3, 5], g.Nodes);
        Assert.Equal([new GraphEdge(2, 0, 0, 1, 0), new GraphEdge(4, 1, 1, 3, 0), new GraphEdge(6, 1, 2, 5, 0)], g.Edges);
        // A busy port makes add a no-op; connect needs a remembered node.
        Assert.Single(GraphProgram.Parse("add add").Run().Edges);
        Assert.Empty(GraphProgram.Parse("connect pop").Run().Edges);
    }

    [Fact]
    public void TheSameTextAlwaysGivesTheSameGraphAndSamplesRepeatWithTheirSeed()
    {
        var p = GraphProgram.Sample(12, seed: 5);
        Assert.Equal(p.Text, GraphProgram.Sample(12, seed: 5).Text);
        Assert.NotEqual(p.Text, GraphProgram.Sample(12, seed: 6).Text);
        Assert.Equal(p.Run().ToReferenceJson(), GraphProgram.Parse(p.Text).Run().ToReferenceJson());
    }

    [Fact]
    public void EnumerationKeepsOneProgramPerDistinctGraph()
    {
        var programs = GraphProgram.Enumerate(3).ToList();
        var graphs = programs.Select(p => p.Run().ToReferenceJson()).ToList();
        Assert.Equal(graphs.Count, graphs.Distinct().Count());
        Assert.Equal("(empty)", programs[0].ToString());
        Assert.Contains(programs, p => p.Run().Nodes.Count == 4);   // extend extend extend: a path of 4
    }

    [Fact]
    public void ControlGraphsHaveTheirShapes()
    {
        var path = CanonicalGraphs.Get("path8");
        Assert.Equal((8, 7), (path.Nodes.Count, path.Edges.Count));
        var star = CanonicalGraphs.Get("star8");
        Assert.Equal((8, 7, 7), (star.Nodes.Count, star.Edges.Count, Degree(star, 0)));
        var cycle = CanonicalGraphs.Get("cycle8");
        Assert.Equal((8, 8), (cycle.Nodes.Count, cycle.Edges.Count));
        Assert.All(cycle.Nodes, n => Assert.Equal(2, Degree(cycle, n)));
        var k4 = CanonicalGraphs.Get("complete4");
        Assert.Equal((4, 6), (k4.Nodes.Count, k4.Edges.Count));
        Assert.All(k4.Nodes, n => Assert.Equal(3, Degree(k4, n)));
        var tree = CanonicalGraphs.Get("tree15");
        Assert.Equal((15, 14), (tree.Nodes.Count, tree.Edges.Count));
        Assert.Equal(2, Degree(tree, 0));
        Assert.Equal(8, tree.Nodes.Count(n => Degree(tree, n) == 1));
    }

    [Fact]
    public void AnUnknownWordSaysWhereItIs()
    {
        var e = Assert.Throws<BasinException>(() => GraphProgram.Parse("extend jump add"));
        Assert.Contains("word 2 'jump'", e.Message);
        Assert.Contains("unknown control graph 'blob'", Assert.Throws<BasinException>(() => CanonicalGraphs.Get("blob")).Message);
    }
}
