namespace Basin.Symbolic;

/// <summary>The operations of a graph program (a cursor-based graph builder in the spirit of the G-SSNN paper's DSL).</summary>
public enum GraphOp
{
    /// <summary>Attach a new node at the cursor's current port; the cursor stays.</summary>
    Add,

    /// <summary>Attach a new node at the cursor's current port and move the cursor to it (at its next free port).</summary>
    Extend,

    /// <summary>Move the cursor to its node's next port (cyclically).</summary>
    Next,

    /// <summary>Remember the cursor (node and port) on a stack.</summary>
    Push,

    /// <summary>Return the cursor to the remembered position on top of the stack.</summary>
    Pop,

    /// <summary>Join the cursor's node to the remembered one, if both ports are free and the nodes are not joined yet.</summary>
    Connect,
}

/// <summary>
/// A graph program: a sequence of <see cref="GraphOp"/>s, written as words ("extend extend next push add pop connect").
/// Running it from one node gives an <see cref="ElementGraph"/>; ids are given in creation order (a new node, then its
/// edge), nodes and edges sharing the counter. An operation that cannot apply (a busy port, an empty stack) does
/// nothing, so every program has a graph, and the same text always gives the same graph.
/// </summary>
public sealed record GraphProgram(IReadOnlyList<GraphOp> Ops)
{
    /// <summary>The maximum number of connections per node the sampled programs use (ports 0..3).</summary>
    public const int DefaultMaxConn = 4;

    static readonly Dictionary<string, GraphOp> Words = Enum.GetValues<GraphOp>().ToDictionary(o => o.ToString().ToLowerInvariant());

    public string Text => string.Join(' ', Ops.Select(o => o.ToString().ToLowerInvariant()));

    public override string ToString() => Text.Length == 0 ? "(empty)" : Text;

    /// <summary>Parses words separated by spaces; an unknown word is an error that says where it is.</summary>
    public static GraphProgram Parse(string text)
    {
        var words = text.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var ops = new List<GraphOp>();
        for (int i = 0; i < words.Length; i++)
            ops.Add(
                Words.TryGetValue(words[i].ToLowerInvariant(), out var op)
                    ? op
                    : throw new BasinException(
                        $"graph program: word {i + 1} '{words[i]}' is not an operation ({string.Join(", ", Words.Keys)})"
                    )
            );
        return new GraphProgram(ops);
    }

    public ElementGraph Run(int maxConn = DefaultMaxConn)
    {
        Check.AtLeast(maxConn, 1, nameof(maxConn));
        int counter = 1;
        var nodes = new List<int> { 0 };
        var edges = new List<GraphEdge>();
        var busy = new Dictionary<int, HashSet<int>> { [0] = [] };
        var stack = new Stack<(int Node, int Port)>();
        (int node, int port) = (0, 0);
        int FreePort(int n) => Enumerable.Range(0, maxConn).FirstOrDefault(p => !busy[n].Contains(p), -1);
        void Join(int a, int pa, int b, int pb)
        {
            busy[a].Add(pa);
            busy[b].Add(pb);
            edges.Add(a < b ? new GraphEdge(counter++, a, pa, b, pb) : new GraphEdge(counter++, b, pb, a, pa));
        }
        foreach (var op in Ops)
        {
            switch (op)
            {
                case GraphOp.Add or GraphOp.Extend when !busy[node].Contains(port):
                    int fresh = counter++;
                    nodes.Add(fresh);
                    busy[fresh] = [];
                    Join(node, port, fresh, 0);
                    if (op == GraphOp.Extend)
                        (node, port) = (fresh, Math.Max(FreePort(fresh), 0));
                    break;
                case GraphOp.Next:
                    port = (port + 1) % maxConn;
                    break;
                case GraphOp.Push:
                    stack.Push((node, port));
                    break;
                case GraphOp.Pop when stack.Count > 0:
                    (node, port) = stack.Pop();
                    break;
                case GraphOp.Connect when stack.Count > 0:
                    var (other, otherPort) = stack.Peek();
                    if (
                        other != node
                        && !busy[node].Contains(port)
                        && !busy[other].Contains(otherPort)
                        && !edges.Any(e => (e.A, e.B) == (Math.Min(node, other), Math.Max(node, other)))
                    )
                        Join(node, port, other, otherPort);
                    break;
            }
        }
        return new ElementGraph(nodes, edges, maxConn);
    }

    /// <summary>A program of <paramref name="length"/> operations drawn uniformly with <paramref name="seed"/>.</summary>
    public static GraphProgram Sample(int length, long seed)
    {
        Check.AtLeast(length, 0, nameof(length));
        var random = Basin.Data.SeededRandom.Create(seed);
        var ops = Enum.GetValues<GraphOp>();
        return new GraphProgram(Enumerable.Range(0, length).Select(_ => ops[random.Next(ops.Length)]).ToArray());
    }

    /// <summary>
    /// Every program of at most <paramref name="maxLength"/> operations, shortest first, keeping the first program of
    /// each distinct graph.
    /// </summary>
    public static IEnumerable<GraphProgram> Enumerate(int maxLength, int maxConn = DefaultMaxConn)
    {
        var seen = new HashSet<string>();
        var ops = Enum.GetValues<GraphOp>();
        IEnumerable<GraphOp[]> OfLength(int n) =>
            n == 0
                ?
                [
                    [],
                ]
                : OfLength(n - 1).SelectMany(p => ops.Select(o => (GraphOp[])[.. p, o]));
        for (int n = 0; n <= maxLength; n++)
            foreach (var p in OfLength(n))
            {
                var program = new GraphProgram(p);
                if (seen.Add(program.Run(maxConn).ToReferenceJson()))
                    yield return program;
            }
    }
}
