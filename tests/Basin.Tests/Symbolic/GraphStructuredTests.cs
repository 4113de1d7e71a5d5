using Basin.Symbolic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Symbolic;

/// <summary>The G-SSNN module against values computed by hand (chunks, embedding, GINE layers, pooling).</summary>
public class GraphStructuredTests
{
    [Fact]
    public void ChunksOfEightValuesOverThreeElementsAreFourTwoAndTwoTiled()
    {
        var chunks = GraphStructured.ChunkIndex(8, 3);
        Assert.Equal([0L, 1, 2, 3, 0, 1, 2, 3], chunks[0]);
        Assert.Equal([4L, 5, 4, 5, 4, 5, 4, 5], chunks[1]);
        Assert.Equal([6L, 7, 6, 7, 6, 7, 6, 7], chunks[2]);
    }

    [Fact]
    public void TheEmbeddingIsSinAndCosOfTwoFrequenciesPerCoordinate()
    {
        // D = 8: ω = (1, 10000^-1); element (a, b) = (1, 0) of a 3×2 table.
        var ij = GraphStructured.EmbeddingTable(8, 3, 2, EmbeddingIndex.Ij);
        var expected = new[] { Math.Sin(1), Math.Sin(1e-4), Math.Cos(1), Math.Cos(1e-4), 0, 0, 1, 1 }.Select(v => (float)v).ToArray();
        Assert.Equal(expected, ij[(2 * 8)..(3 * 8)]);
        // legacy_xy: v = a·w + b = 2, (X, Y) = (2 mod 3, 2 / 3) = (2, 0).
        var legacy = GraphStructured.EmbeddingTable(8, 3, 2, EmbeddingIndex.LegacyXy);
        var expectedLegacy = new[] { Math.Sin(2), Math.Sin(2e-4), Math.Cos(2), Math.Cos(2e-4), 0, 0, 1, 1 }.Select(v => (float)v).ToArray();
        Assert.Equal(expectedLegacy, legacy[(2 * 8)..(3 * 8)]);
    }

    static GraphStructured Identity(ElementGraph graph, int depth)
    {
        var module = new GraphStructured(graph, 8, 8, new GraphModuleOptions { Depth = depth, Dropout = 0 });
        module.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var (name, p) in module.named_parameters())
                p.copy_(name.EndsWith("weight") ? torch.eye(8, dtype: ScalarType.Float64) : torch.zeros_like(p));
        module.eval();
        return module;
    }

    static double[] Tile(double[] x, long[] index) => index.Select(i => x[i]).ToArray();

    static double[] Emb(int element, int port, int elements, int maxConn) =>
        GraphStructured.EmbeddingTable(8, elements, maxConn + 1, EmbeddingIndex.Ij)
            .Skip((element * (maxConn + 1) + port) * 8).Take(8).Select(v => (double)v).ToArray();

    static double[] Add(double[] a, double[] b) => a.Zip(b, (x, y) => x + y).ToArray();
    static double[] Relu(double[] a) => a.Select(v => Math.Max(v, 0)).ToArray();

    [Fact]
    public void OneGineLayerOnAnEdgeEqualsTheUpdateByHand()
    {
        // Nodes 0 and 1, edge 2 (port 0 at node 0): h0' = h0 + ReLU(h1 + e), h1' = h1 + ReLU(h0 + e), output = mean.
        var graph = GraphProgram.Parse("add").Run();
        Assert.Equal([0, 1], graph.Nodes);
        Assert.Equal(new GraphEdge(2, 0, 0, 1, 0), Assert.Single(graph.Edges));
        using var module = Identity(graph, depth: 1);
        var x = Enumerable.Range(0, 8).Select(i => Math.Sin(i + 1) * 3).ToArray();
        var chunks = GraphStructured.ChunkIndex(8, 3);
        var h0 = Add(Tile(x, chunks[0]), Emb(0, 0, 3, 4));
        var h1 = Add(Tile(x, chunks[1]), Emb(1, 0, 3, 4));
        var e = Add(Tile(x, chunks[2]), Emb(2, 1, 3, 4));
        var h0n = Add(h0, Relu(Add(h1, e)));
        var h1n = Add(h1, Relu(Add(h0, e)));
        var expected = h0n.Zip(h1n, (a, b) => (a + b) / 2).ToArray();
        using var input = torch.tensor(x, [1, 8]);
        using var y = module.forward(input);
        var got = y.data<double>().ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], got[i], 12);
    }

    [Fact]
    public void AGraphWithoutEdgesIsThePerNodeNetwork()
    {
        var graph = GraphProgram.Parse("").Run();
        using var module = new GraphStructured(graph, 8, 3, new GraphModuleOptions { Depth = 2, Dropout = 0 });
        module.to(ScalarType.Float64).eval();
        using var x = torch.randn(4, 8, dtype: ScalarType.Float64);
        using var y = module.forward(x);
        var modules = module.named_modules().ToDictionary(m => m.name, m => m.module);
        var layers = new[] { "layers.0", "layers.1", "output" }.Select(n => (TorchSharp.Modules.Linear)modules[n]).ToList();
        using var emb = torch.tensor(Emb(0, 0, 1, 4));
        using var h = x.add(emb, Basin.Native.Scalars.One);
        using var expected = layers[2].forward(layers[1].forward(layers[0].forward(h)));
        Assert.True(y.allclose(expected, rtol: 1e-12, atol: 1e-12));
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.0)]
    public void TheEmbeddingScaleMultipliesTheFixedCodes(double scale)
    {
        var graph = GraphProgram.Parse("").Run();
        torch.manual_seed(5);
        using var module = new GraphStructured(graph, 8, 3, new GraphModuleOptions { Depth = 1, Dropout = 0, EmbeddingScale = scale });
        module.to(ScalarType.Float64).eval();
        using var x = torch.randn(2, 8, dtype: ScalarType.Float64);
        using var y = module.forward(x);
        var modules = module.named_modules().ToDictionary(m => m.name, m => m.module);
        using var emb = torch.tensor(Emb(0, 0, 1, 4).Select(v => v * scale).ToArray());
        using var h = x.add(emb, Basin.Native.Scalars.One);
        using var expected = ((TorchSharp.Modules.Linear)modules["output"]).forward(((TorchSharp.Modules.Linear)modules["layers.0"]).forward(h));
        Assert.True(y.allclose(expected, rtol: 1e-12, atol: 1e-12));
        Assert.Throws<OptionException>(() => new GraphModuleOptions { EmbeddingScale = -1 });
    }

    [Fact]
    public void TheOrderInWhichNodesAndEdgesAreListedDoesNotMatter()
    {
        var graph = GraphProgram.Parse("extend push extend pop next add").Run();
        var shuffled = new ElementGraph(graph.Nodes.Reverse().ToList(), graph.Edges.Reverse().ToList(), graph.MaxConn);
        torch.manual_seed(3);
        using var a = new GraphStructured(graph, 16, 2, new GraphModuleOptions { Dropout = 0 });
        torch.manual_seed(3);
        using var b = new GraphStructured(shuffled, 16, 2, new GraphModuleOptions { Dropout = 0 });
        a.eval();
        b.eval();
        using var x = torch.randn(5, 16);
        using var ya = a.forward(x);
        using var yb = b.forward(x);
        Assert.True(ya.allclose(yb, rtol: 0, atol: 0));
    }

    [Fact]
    public void TheGradientByTheFeaturesMatchesCentralDifferences()
    {
        torch.manual_seed(7);
        using var module = new GraphStructured(CanonicalGraphs.Get("cycle4"), 16, 1, new GraphModuleOptions { Dropout = 0 });
        module.to(ScalarType.Float64).eval();
        using var x = torch.randn(1, 16, dtype: ScalarType.Float64, requires_grad: true);
        using (var y = module.forward(x)) y.sum().backward();
        var grad = x.grad!.data<double>().ToArray();
        var x0 = x.detach().data<double>().ToArray();
        double F(double[] v)
        {
            using var _ = torch.no_grad();
            using var t = torch.tensor(v, [1, 16]);
            using var y = module.forward(t);
            return y.sum().item<double>();
        }
        const double h = 1e-6;
        for (int i = 0; i < 16; i++)
        {
            var plus = (double[])x0.Clone();
            var minus = (double[])x0.Clone();
            plus[i] += h;
            minus[i] -= h;
            Assert.Equal((F(plus) - F(minus)) / (2 * h), grad[i], 6);   // ReLU kinks are away from these points
        }
    }

    [Fact]
    public void GradientsReachTheInputFeatures()
    {
        var graph = CanonicalGraphs.Get("cycle4");
        using var module = new GraphStructured(graph, 16, 1);
        using var x = torch.randn(3, 16, requires_grad: true);
        using var y = module.forward(x);
        using var loss = y.sum();
        loss.backward();
        using var norm = x.grad!.norm();
        Assert.True(norm.item<float>() > 0);
    }

    [Fact]
    public void ReferenceGraphsLoadAndTheLegacyModeCountsEveryEdgeTwice()
    {
        // A 9-node path-like graph from the paper's released representations (every edge listed from both ends).
        const string json = """
            {"edges":[[[15,7],[16,13]],[[13,7],[16,15]],[[13,6],[14,11]],[[11,6],[14,13]],[[11,5],[12,9]],[[9,5],[12,11]],
            [[9,4],[10,7]],[[7,4],[10,9]],[[7,3],[8,5]],[[5,3],[8,7]],[[5,2],[6,3]],[[3,2],[6,5]],[[3,1],[4,0]],[[1,0],[2,0]],
            [[0,1],[4,3]],[[0,0],[2,1]]],"next_id":17,"size":9,"max_conn":10}
            """;
        var graph = ElementGraph.FromReferenceJson(json);
        Assert.Equal(9, graph.Nodes.Count);
        Assert.Equal(8, graph.Edges.Count);
        Assert.Equal(17, graph.NextId);
        Assert.Equal(25, graph.ReferenceElementCount);
        Assert.Equal(new GraphEdge(4, 0, 1, 3, 1), graph.Edges.Single(e => e.Id == 4));
        using var fixedModule = new GraphStructured(graph, 32, 1);
        Assert.Equal(17, fixedModule.ElementCount);
        using var legacy = new GraphStructured(graph, 32, 1, new GraphModuleOptions { LegacyDuplicateEdges = true });
        Assert.Equal(25, legacy.ElementCount);
        // Round trip through the reference format.
        var again = ElementGraph.FromReferenceJson(graph.ToReferenceJson());
        Assert.Equal(graph.Edges, again.Edges);
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var graph = CanonicalGraphs.Get("path8");   // 8 nodes + 7 edges = 15 elements
        Assert.Contains("15 elements but the features only 12", Assert.Throws<BasinException>(() => new GraphStructured(graph, 12, 1)).Message);
        Assert.Contains("multiple of 4", Assert.Throws<OptionException>(() => new GraphStructured(graph, 18, 1)).Message);
        Assert.Contains("malformed", Assert.Throws<BasinException>(() => ElementGraph.FromReferenceJson("{")).Message);
        using var module = new GraphStructured(graph, 16, 1);
        using var wrong = torch.zeros(2, 8);
        Assert.Contains("expects features [N,16]", Assert.Throws<BasinException>(() => module.forward(wrong)).Message);
    }
}
