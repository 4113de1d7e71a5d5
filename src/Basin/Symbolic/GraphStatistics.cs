namespace Basin.Symbolic;

/// <summary>
/// Shape of a program's graph, the candidates for predicting its effect: nodes, edges, independent cycles
/// (edges − nodes + connected components), diameter (the longest shortest path within a component), mean degree
/// (2·edges / nodes) and elements (nodes + edges, which set the chunk size of the module's input).
/// </summary>
public sealed record GraphStatistics(int Nodes, int Edges, int Cycles, int Diameter, double MeanDegree, int Elements)
{
    /// <summary>The names of the statistics, in the order <see cref="Values"/> gives them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["nodes", "edges", "cycles", "diameter", "mean degree", "elements"];

    public IReadOnlyList<double> Values => [Nodes, Edges, Cycles, Diameter, MeanDegree, Elements];

    public static GraphStatistics Of(ElementGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var index = graph.Nodes.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        int n = graph.Nodes.Count;
        var neighbours = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        foreach (var e in graph.Edges)
        {
            neighbours[index[e.A]].Add(index[e.B]);
            neighbours[index[e.B]].Add(index[e.A]);
        }
        int components = 0, diameter = 0;
        var component = new int[n];
        Array.Fill(component, -1);
        for (int start = 0; start < n; start++)
        {
            if (component[start] < 0) Visit(start, components++, neighbours, component);
            diameter = Math.Max(diameter, Eccentricity(start, neighbours));
        }
        return new GraphStatistics(n, graph.Edges.Count, graph.Edges.Count - n + components, diameter,
            n == 0 ? 0 : 2.0 * graph.Edges.Count / n, graph.ElementCount);
    }

    static void Visit(int start, int label, List<int>[] neighbours, int[] component)
    {
        var stack = new Stack<int>([start]);
        component[start] = label;
        while (stack.TryPop(out var v))
            foreach (var w in neighbours[v])
                if (component[w] < 0)
                {
                    component[w] = label;
                    stack.Push(w);
                }
    }

    /// <summary>The largest breadth-first distance from <paramref name="start"/> to a node it reaches.</summary>
    static int Eccentricity(int start, List<int>[] neighbours)
    {
        var distance = new int[neighbours.Length];
        Array.Fill(distance, -1);
        distance[start] = 0;
        var queue = new Queue<int>([start]);
        int farthest = 0;
        while (queue.TryDequeue(out var v))
            foreach (var w in neighbours[v])
                if (distance[w] < 0)
                {
                    distance[w] = distance[v] + 1;
                    farthest = Math.Max(farthest, distance[w]);
                    queue.Enqueue(w);
                }
        return farthest;
    }
}
