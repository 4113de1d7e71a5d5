using Basin.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Symbolic;

/// <summary>
/// A G-SSNN module ("Symbolic Synthesis of Neural Networks"): spreads an encoder's feature vector x ∈ R^D over the
/// elements of a fixed graph and runs GINE-style message passing on it. x is cut into one chunk per element (the
/// first chunk takes the remainder), each chunk is tiled to length D and added to a fixed sinusoidal embedding of the
/// element's order id (and, for an edge, its port); then <c>Depth</c> layers of
/// h_i ← Linear(h_i + Σ_{j→i} ReLU(h_j + e_{ji})) (ε = 0; dropout on nodes and edges before each), every edge used in
/// both directions; the nodes are mean-pooled and a Linear maps to the outputs. docs/symbolic.md has the details.
/// </summary>
public sealed class GraphStructured : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Linear> layers;
    readonly Linear output;
    readonly Dropout nodeDropout,
        edgeDropout;
    readonly Tensor nodeGather,
        nodeEmbedding,
        edgeGather,
        edgeEmbedding,
        source,
        target,
        edgeOfMessage;

    public GraphStructured(ElementGraph graph, int dimension, int outputs, GraphModuleOptions? options = null)
        : base(nameof(GraphStructured))
    {
        options ??= new GraphModuleOptions();
        Check.AtLeast(outputs, 1, nameof(outputs));
        if (dimension < 8 || dimension % 4 != 0)
            throw new OptionException(nameof(dimension), $"the feature dimension must be a multiple of 4 and at least 8, got {dimension}");
        Graph = graph;
        Dimension = dimension;
        Options = options;

        // Edge elements: each edge once (id, port at its first end), or, as the reference does, once from each end.
        var edgeElements = graph.Edges.Select(e => (e.Id, e.PortA, e.A, e.B)).ToList();
        if (options.LegacyDuplicateEdges)
            edgeElements.AddRange(graph.Edges.Select(e => (e.Id, e.PortB, e.A, e.B)));
        ElementCount = graph.Nodes.Count + edgeElements.Count;
        if (ElementCount > dimension)
            throw new BasinException(
                $"the graph has {ElementCount} elements but the features only {dimension} values: each element needs at least one"
            );

        var chunks = ChunkIndex(dimension, ElementCount);
        var table = EmbeddingTable(dimension, ElementCount, graph.MaxConn + 1, options.EmbeddingIndex);
        if (options.EmbeddingScale != 1)
            for (int i = 0; i < table.Length; i++) table[i] = (float)(table[i] * options.EmbeddingScale);
        var nodeIndex = graph.Nodes.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        long[] Rows(IEnumerable<int> ids) => ids.SelectMany(id => chunks[id]).ToArray();
        nodeGather = torch.tensor(Rows(graph.Nodes));
        edgeGather = torch.tensor(Rows(edgeElements.Select(e => e.Id)));
        using (var t = torch.tensor(table).reshape(ElementCount, graph.MaxConn + 1, dimension))
        {
            nodeEmbedding = Stack(graph.Nodes.Select(id => t[id, 0]), dimension);
            edgeEmbedding = Stack(edgeElements.Select(e => t[e.Id, e.PortA + 1]), dimension);
        }
        // Directed messages: every edge element in both directions.
        var messages = edgeElements
            .SelectMany(
                (e, k) => new[] { (Src: nodeIndex[e.A], Dst: nodeIndex[e.B], Edge: k), (Src: nodeIndex[e.B], Dst: nodeIndex[e.A], Edge: k) }
            )
            .ToList();
        source = torch.tensor(messages.Select(m => (long)m.Src).ToArray());
        target = torch.tensor(messages.Select(m => (long)m.Dst).ToArray());
        edgeOfMessage = torch.tensor(messages.Select(m => (long)m.Edge).ToArray());

        layers = new ModuleList<Linear>(Enumerable.Range(0, options.Depth).Select(_ => nn.Linear(dimension, dimension)).ToArray());
        output = nn.Linear(dimension, outputs);
        nodeDropout = nn.Dropout(options.Dropout);
        edgeDropout = nn.Dropout(options.Dropout);
        RegisterComponents();
        foreach (var buffer in new[] { nodeGather, nodeEmbedding, edgeGather, edgeEmbedding, source, target, edgeOfMessage })
            buffer.DetachFromDisposeScope();
    }

    static Tensor Stack(IEnumerable<Tensor> rows, int dimension)
    {
        var list = rows.ToList();
        return list.Count == 0 ? torch.zeros(0, dimension) : torch.stack(list).clone();
    }

    public ElementGraph Graph { get; }
    public int Dimension { get; }
    public GraphModuleOptions Options { get; }

    /// <summary>
    /// Chunks the features are cut into: nodes + edges (+ edges again with <see cref="GraphModuleOptions.LegacyDuplicateEdges"/>).
    /// </summary>
    public int ElementCount { get; }

    /// <summary>Positions of x that element c's tiled chunk reads: [n_elt][D]; the first chunk is inc + rem long, the others inc.</summary>
    public static long[][] ChunkIndex(int dimension, int elements)
    {
        int inc = dimension / elements,
            rem = dimension - inc * elements;
        var result = new long[elements][];
        for (int c = 0; c < elements; c++)
        {
            int start = c == 0 ? 0 : inc + rem + (c - 1) * inc,
                length = c == 0 ? inc + rem : inc;
            result[c] = Enumerable.Range(0, dimension).Select(k => (long)(start + k % length)).ToArray();
        }
        return result;
    }

    /// <summary>
    /// The fixed embedding, [rows·columns·D] row-major: element (a, b) at coordinates (X, Y) gets
    /// [sin ωX, cos ωX, sin ωY, cos ωY] with ω_j = 10000^(−j/(D/4 − 1)), j = 0..D/4−1.
    /// </summary>
    public static float[] EmbeddingTable(int dimension, int rows, int columns, EmbeddingIndex index)
    {
        int quarter = dimension / 4;
        var omega = Enumerable.Range(0, quarter).Select(j => Math.Pow(10000, -(double)j / (quarter - 1))).ToArray();
        var table = new float[(long)rows * columns * dimension];
        for (int a = 0; a < rows; a++)
        for (int b = 0; b < columns; b++)
        {
            int v = a * columns + b;
            var (x, y) = index == EmbeddingIndex.Ij ? (a, b) : (v % rows, v / rows);
            long at = (long)v * dimension;
            for (int j = 0; j < quarter; j++)
            {
                table[at + j] = (float)Math.Sin(omega[j] * x);
                table[at + quarter + j] = (float)Math.Cos(omega[j] * x);
                table[at + 2 * quarter + j] = (float)Math.Sin(omega[j] * y);
                table[at + 3 * quarter + j] = (float)Math.Cos(omega[j] * y);
            }
        }
        return table;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var buffer in new[] { nodeGather, nodeEmbedding, edgeGather, edgeEmbedding, source, target, edgeOfMessage })
                buffer.Dispose();
        base.Dispose(disposing);
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != Dimension)
            throw new BasinException($"the G-SSNN module expects features [N,{Dimension}], got [{string.Join(",", x.shape)}]");
        using var scope = torch.NewDisposeScope();
        long n = x.shape[0];
        var dtype = x.dtype;
        var h = x.index_select(1, nodeGather).reshape(n, Graph.Nodes.Count, Dimension).add(nodeEmbedding.to_type(dtype), Scalars.One);
        var e = x.index_select(1, edgeGather).reshape(n, -1, Dimension).add(edgeEmbedding.to_type(dtype), Scalars.One);
        foreach (var layer in layers)
        {
            var hd = nodeDropout.forward(h);
            var ed = edgeDropout.forward(e);
            var messages = nn.functional.relu(hd.index_select(1, source).add(ed.index_select(1, edgeOfMessage), Scalars.One));
            var sum = torch.zeros_like(hd).index_add(1, target, messages, Scalars.One);
            h = layer.forward(hd.add(sum, Scalars.One));
        }
        return output.forward(h.mean([1])).MoveToOuterDisposeScope();
    }
}
