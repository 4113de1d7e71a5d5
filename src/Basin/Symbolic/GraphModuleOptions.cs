namespace Basin.Symbolic;

/// <summary>How element (a, b) of the embedding table maps to the sinusoid's coordinates (X, Y).</summary>
public enum EmbeddingIndex
{
    /// <summary>(X, Y) = (a, b), as intended.</summary>
    Ij,

    /// <summary>
    /// The reference code's meshgrid with "xy" indexing on a non-square table: with h = rows, w = columns and v = a·w + b,
    /// (X, Y) = (v mod h, ⌊v / h⌋). Still one code per element, but not (a, b).
    /// </summary>
    LegacyXy,
}

/// <summary>Options of <see cref="GraphStructured"/>; the defaults are the paper's.</summary>
public sealed record GraphModuleOptions
{
    /// <summary>Message-passing layers.</summary>
    public int Depth { get; init => field = Basin.Check.AtLeast(value, 1, nameof(Depth)); } = 3;

    /// <summary>Dropout on node and, separately, edge features before every layer.</summary>
    public double Dropout { get; init => field = Basin.Check.Fraction(value, nameof(Dropout)); } = 0.3;
    public EmbeddingIndex EmbeddingIndex { get; init; } = EmbeddingIndex.Ij;

    /// <summary>
    /// Factor on the fixed embedding (1: the paper's, sinusoids in [−1, 1] in every dimension). Smaller values let the
    /// encoder's features, rather than the element codes, dominate the module's input.
    /// </summary>
    public double EmbeddingScale { get; init => field = Basin.Check.NonNegative(value, nameof(EmbeddingScale)); } = 1;

    /// <summary>
    /// Reproduce the reference's broken edge de-duplication: every edge counted twice (once from each end, with that
    /// end's port), so there are n_nodes + 2·n_edges chunks and each edge sends four directed messages.
    /// </summary>
    public bool LegacyDuplicateEdges { get; init; }
}
