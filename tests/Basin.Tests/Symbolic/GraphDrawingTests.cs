using Basin.Experiments.Symbolic;
using Basin.Symbolic;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Symbolic;

public class GraphDrawingTests
{
    [Theory]
    [InlineData("edge")]
    [InlineData("star8")]
    [InlineData("tree15")]
    [InlineData("complete4")]
    public void TheLayoutIsDeterministicInsideTheSquareAndKeepsNodesApart(string name)
    {
        var graph = CanonicalGraphs.Get(name);
        var a = GraphDrawing.Layout(graph);
        Assert.Equal(a, GraphDrawing.Layout(graph));
        Assert.Equal(graph.Nodes.Count, a.Length);
        Assert.All(a, p => { Assert.InRange(p.X, 0.0, 1.0); Assert.InRange(p.Y, 0.0, 1.0); });
        for (int i = 0; i < a.Length; i++)
            for (int j = i + 1; j < a.Length; j++)
                Assert.True(Math.Sqrt(Math.Pow(a[i].X - a[j].X, 2) + Math.Pow(a[i].Y - a[j].Y, 2)) > 0.02, $"nodes {i} and {j} overlap");
    }

    [Fact]
    public void ShowDrawsAPng()
    {
        var dir = CliRunner.TempDir();
        var png = Path.Combine(dir, "cycle8.png");
        var r = CliRunner.Run(dir, null, "gssnn", "show", "cycle8", "--png", png);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "gssnn", "show", "extend frobnicate"), "frobnicate");
    }
}
