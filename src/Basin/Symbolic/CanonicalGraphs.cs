namespace Basin.Symbolic;

/// <summary>
/// Control graphs: a single edge, paths P_k, stars S_k, cycles C_k (k = 4, 8), the complete graph K_4 and complete
/// binary trees of 7 and 15 nodes. All but K_4 are written as a <see cref="GraphProgram"/>, so their ids follow the
/// creation order of sampled programs; K_4 is built directly (nodes 0–3, then edges 4–9).
/// </summary>
public static class CanonicalGraphs
{
    /// <summary>Name → the program text (null for K_4) and the ports per node it needs.</summary>
    public static IReadOnlyDictionary<string, (string? Program, int MaxConn)> All { get; } = Build();

    public static ElementGraph Get(string name)
    {
        if (!All.TryGetValue(name, out var g))
            throw new BasinException($"unknown control graph '{name}' (known: {string.Join(", ", All.Keys)})");
        return g.Program is { } text ? GraphProgram.Parse(text).Run(g.MaxConn) : Complete4();
    }

    static ElementGraph Complete4()
    {
        var pairs = new[] { (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3) };
        var used = new int[4];
        var edges = pairs.Select((p, k) => new GraphEdge(4 + k, p.Item1, used[p.Item1]++, p.Item2, used[p.Item2]++)).ToList();
        return new ElementGraph([0, 1, 2, 3], edges, 4);
    }

    static Dictionary<string, (string?, int)> Build()
    {
        string Repeat(string word, int n) => string.Join(' ', Enumerable.Repeat(word, n));
        var graphs = new Dictionary<string, (string?, int)> { ["edge"] = ("add", 4) };
        foreach (int k in new[] { 4, 8 })
        {
            graphs[$"path{k}"] = (Repeat("extend", k - 1), 4);
            graphs[$"star{k}"] = (Repeat("add next", k - 1), Math.Max(4, k - 1));
            graphs[$"cycle{k}"] = ("push next " + Repeat("extend", k - 1) + " connect", 4);
        }
        graphs["complete4"] = (null, 4);
        // Complete binary trees of depth 2 (7 nodes) and 3 (15 nodes): each node adds its two children.
        graphs["tree7"] = (BinaryTree(2), 4);
        graphs["tree15"] = (BinaryTree(3), 4);
        return graphs;
    }

    static string BinaryTree(int depth) =>
        depth == 0 ? "" : $"push extend {BinaryTree(depth - 1)} pop next push extend {BinaryTree(depth - 1)} pop".Replace("  ", " ");
}
