using System.Text.Json;
using System.Text.Json.Nodes;

namespace Basin.Symbolic;

/// <summary>
/// An undirected edge of an <see cref="ElementGraph"/>: its order id, its end nodes (order ids, <see cref="A"/> the
/// lower) and the port it uses at each end. Its embedding uses <see cref="PortA"/>.
/// </summary>
public sealed record GraphEdge(int Id, int A, int PortA, int B, int PortB);

/// <summary>
/// The graph a symbolic program produces ("Symbolic Synthesis of Neural Networks", G-SSNN): nodes and edges share one
/// space of order ids 0..n−1 (assigned in creation order), and every edge remembers the port it uses at its first node,
/// 0..<see cref="MaxConn"/>−1. The order ids pick the chunk of the encoder's features and the embedding of each element.
/// </summary>
public sealed class ElementGraph
{
    public ElementGraph(IReadOnlyList<int> nodes, IReadOnlyList<GraphEdge> edges, int maxConn)
    {
        if (nodes.Count == 0)
            throw new BasinException("a graph needs at least one node");
        if (maxConn < 1)
            throw new BasinException($"max_conn must be at least 1, got {maxConn}");
        var ids = nodes.Concat(edges.Select(e => e.Id)).ToList();
        if (ids.Distinct().Count() != ids.Count)
            throw new BasinException("node and edge ids must be distinct");
        var nodeSet = nodes.ToHashSet();
        foreach (var e in edges)
        {
            if (!nodeSet.Contains(e.A) || !nodeSet.Contains(e.B))
                throw new BasinException($"edge {e.Id} joins {e.A} and {e.B}, which are not both nodes");
            if (e.A == e.B)
                throw new BasinException($"edge {e.Id} is a loop on node {e.A}");
            if (e.A > e.B)
                throw new BasinException($"edge {e.Id}: its first end must be the lower-numbered node");
            if (e.PortA < 0 || e.PortA >= maxConn || e.PortB < 0 || e.PortB >= maxConn)
                throw new BasinException($"edge {e.Id} uses ports {e.PortA} and {e.PortB}, outside 0..{maxConn - 1}");
        }
        Nodes = nodes.Order().ToArray();
        Edges = edges.OrderBy(e => e.Id).ToArray();
        MaxConn = maxConn;
    }

    /// <summary>Node order ids, ascending (message passing numbers them 0..n_nodes−1 in this order).</summary>
    public IReadOnlyList<int> Nodes { get; }
    public IReadOnlyList<GraphEdge> Edges { get; }
    public int MaxConn { get; }

    /// <summary>Elements: nodes plus edges; the encoder's features are split into this many chunks.</summary>
    public int ElementCount => Nodes.Count + Edges.Count;

    /// <summary>Largest order id + 1 (the reference's next_id).</summary>
    public int NextId => Nodes.Concat(Edges.Select(e => e.Id)).Max() + 1;

    /// <summary>
    /// Reads the reference JSON ({"edges": [[[node, port], [edge, node]], ...], "max_conn": k, ...}), where every edge
    /// appears once from each end with that end's port. Each edge id is kept once. Nodes are the ends of edges (a
    /// reference graph has no isolated nodes).
    /// </summary>
    public static ElementGraph FromReferenceJson(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new BasinException($"graph JSON is malformed: {e.Message}");
        }
        if (root?["edges"] is not JsonArray entries || root["max_conn"] is not JsonValue maxConnValue)
            throw new BasinException("graph JSON needs \"edges\" (an array) and \"max_conn\"");
        int maxConn = maxConnValue.GetValue<int>();
        var ends = new Dictionary<int, SortedDictionary<int, int>>(); // edge id -> node -> port
        foreach (var entry in entries)
        {
            if (
                entry is not JsonArray { Count: 2 } both
                || both[0] is not JsonArray { Count: 2 } from
                || both[1] is not JsonArray { Count: 2 } to
            )
                throw new BasinException($"graph JSON: an edge entry must be [[node, port], [edge, node]], got {entry?.ToJsonString()}");
            int a = from[0]!.GetValue<int>(),
                port = from[1]!.GetValue<int>(),
                id = to[0]!.GetValue<int>(),
                b = to[1]!.GetValue<int>();
            if (!ends.TryGetValue(id, out var known))
                ends[id] = known = [];
            known[a] = port;
            known.TryAdd(b, -1); // the far end's port, until its own entry says
        }
        var edges = new List<GraphEdge>();
        foreach (var (id, known) in ends)
        {
            if (known.Count != 2)
                throw new BasinException($"graph JSON: edge {id} has {known.Count} ends");
            var ((a, pa), (b, pb)) = (known.First(), known.Last());
            edges.Add(new GraphEdge(id, a, Math.Max(pa, 0), b, Math.Max(pb, 0)));
        }
        return new ElementGraph(ends.Values.SelectMany(k => k.Keys).Distinct().ToList(), edges, maxConn);
    }

    /// <summary>
    /// The number of elements the reference module counts for this graph, which lists every edge twice (once per end):
    /// n_nodes + 2·n_edges (its edge de-duplication never takes effect).
    /// </summary>
    public int ReferenceElementCount => Nodes.Count + 2 * Edges.Count;

    /// <summary>The reference JSON of the graph: each edge listed from both ends with that end's port.</summary>
    public string ToReferenceJson()
    {
        var edges = new JsonArray();
        foreach (var e in Edges)
        {
            edges.Add(new JsonArray(new JsonArray(e.A, e.PortA), new JsonArray(e.Id, e.B)));
            edges.Add(new JsonArray(new JsonArray(e.B, e.PortB), new JsonArray(e.Id, e.A)));
        }
        return new JsonObject
        {
            ["edges"] = edges,
            ["next_id"] = NextId,
            ["size"] = Nodes.Count,
            ["max_conn"] = MaxConn,
        }.ToJsonString();
    }
}
