using Basin.Training;

namespace Basin.Pruning;

/// <summary>
/// Magnitude pruning: remove the alive entries of smallest |w|, ties broken by the lower flat index (parameters in mask
/// order, entries in row-major order), either ranked over all masked parameters together (global) or per parameter
/// (layer-wise). Counts are exact integers: a sparsity s prunes ⌊s·n⌋ entries, a round at rate P % removes
/// ⌊P/100 · alive⌋. Pruned entries are never revived.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>
    /// The mask pruned to sparsity <paramref name="sparsity"/> ∈ [0, 1): globally ⌊s·n⌋ of all n masked entries, layer-wise
    /// ⌊s·n_l⌋ of each parameter's n_l; entries already pruned count towards it, and a mask already sparser stays as it is.
    /// </summary>
    public static PruningMask ToSparsity(PruningMask mask, IReadOnlyList<NamedParameter> parameters, double sparsity,
        bool layerwise = false)
    {
        Check.Fraction(sparsity, "sparsity");
        var entries = new MaskedEntries(mask);
        var scores = Magnitudes(entries, parameters);
        var removed = new List<int>();
        if (layerwise)
        {
            for (int l = 0; l < entries.Names.Count; l++)
            {
                var (start, end) = entries.Range(l);
                long alive = Enumerable.Range(start, end - start).LongCount(i => entries.Alive[i]);
                long target = Ranking.Floor(sparsity, end - start);
                long pruned = end - start - alive;
                if (target > pruned) removed.AddRange(Ranking.Smallest(scores, i => entries.Alive[i], target - pruned, start, end));
            }
        }
        else
        {
            long target = Ranking.Floor(sparsity, entries.Count);
            long pruned = entries.Count - entries.AliveCount;
            if (target > pruned) removed.AddRange(Ranking.Smallest(scores, i => entries.Alive[i], target - pruned));
        }
        return entries.Without(removed);
    }

    /// <summary>One round of iterative pruning: removes ⌊P/100 · alive⌋ alive entries (globally, or per parameter).</summary>
    public static PruningMask Round(PruningMask mask, IReadOnlyList<NamedParameter> parameters, double ratePercent, bool layerwise = false)
    {
        CheckRate(ratePercent, "rate");
        var entries = new MaskedEntries(mask);
        var scores = Magnitudes(entries, parameters);
        var removed = new List<int>();
        if (layerwise)
        {
            for (int l = 0; l < entries.Names.Count; l++)
            {
                var (start, end) = entries.Range(l);
                long alive = Enumerable.Range(start, end - start).LongCount(i => entries.Alive[i]);
                removed.AddRange(Ranking.Smallest(scores, i => entries.Alive[i], Ranking.FloorPercent(ratePercent, alive), start, end));
            }
        }
        else
        {
            removed.AddRange(Ranking.Smallest(scores, i => entries.Alive[i], Ranking.FloorPercent(ratePercent, entries.AliveCount)));
        }
        return entries.Without(removed);
    }

    internal static double[] Magnitudes(MaskedEntries entries, IReadOnlyList<NamedParameter> parameters)
    {
        var w = entries.Gather(parameters);
        for (int i = 0; i < w.Length; i++) w[i] = Math.Abs(w[i]);
        return w;
    }

    /// <summary>A per-round rate in percent: 0 &lt; P &lt; 100.</summary>
    internal static double CheckRate(double percent, string name) =>
        percent > 0 && percent < 100 ? percent : throw new OptionException(name, $"{name} must be a percentage in (0, 100), got {percent}");
}
