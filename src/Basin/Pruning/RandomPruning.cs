using Basin.Data;

namespace Basin.Pruning;

/// <summary>
/// Random (unstructured) pruning, the control for every criterion: each parameter loses ⌊s·n_l⌋ entries (layer-wise
/// uniform sparsity) or exactly as many as a reference mask prunes there (same per-layer density), chosen uniformly
/// among its alive entries by a generator seeded with <c>seed</c> (System.Random, stable across .NET versions).
/// </summary>
public static class RandomPruning
{
    public static PruningMask ToSparsity(PruningMask mask, double sparsity, long seed)
    {
        Check.Fraction(sparsity, "sparsity");
        var entries = new MaskedEntries(mask);
        return Prune(entries, l => Ranking.Floor(sparsity, entries.Range(l).End - entries.Range(l).Start), seed);
    }

    /// <summary>A random mask with the same number of pruned entries per parameter as <paramref name="reference"/>.</summary>
    public static PruningMask LikeLayers(PruningMask mask, PruningMask reference, long seed)
    {
        var entries = new MaskedEntries(mask);
        var counts = reference.Sparsity().Layers.ToDictionary(l => l.Name, l => l.Pruned);
        return Prune(entries, l => counts.TryGetValue(entries.Names[l], out var c) ? c
            : throw new BasinException($"the reference mask does not cover '{entries.Names[l]}'"), seed);
    }

    static PruningMask Prune(MaskedEntries entries, Func<int, long> targetPruned, long seed)
    {
        var random = SeededRandom.Create(seed);
        var removed = new List<int>();
        for (int l = 0; l < entries.Names.Count; l++)
        {
            var (start, end) = entries.Range(l);
            var alive = Enumerable.Range(start, end - start).Where(i => entries.Alive[i]).ToArray();
            long more = targetPruned(l) - (end - start - alive.Length);
            if (more <= 0) continue;
            foreach (var k in random.ChooseIndices(alive.Length, more)) removed.Add(alive[k]);
        }
        return entries.Without(removed);
    }
}
