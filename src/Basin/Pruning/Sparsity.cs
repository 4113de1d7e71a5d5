namespace Basin.Pruning;

/// <summary>One masked parameter: its size, how many of its entries are pruned, and the pruned fraction.</summary>
public sealed record LayerSparsity(string Name, long Total, long Pruned)
{
    public long Alive => Total - Pruned;
    public double Sparsity => Total == 0 ? 0 : (double)Pruned / Total;
}

/// <summary>
/// The sparsity of a <see cref="PruningMask"/>: per masked parameter and global (pruned entries over all masked entries).
/// Parameters the mask does not cover (biases under weight pruning) are not counted.
/// </summary>
public sealed record SparsityReport(IReadOnlyList<LayerSparsity> Layers)
{
    public long Total => Layers.Sum(l => l.Total);
    public long Pruned => Layers.Sum(l => l.Pruned);
    public long Alive => Total - Pruned;
    public double Global => Total == 0 ? 0 : (double)Pruned / Total;
}
