using Basin.Training;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// How a round of AP removed weights: the alive count it started from, the base criterion's and AP's removals, AP's share
/// ⌊q/100 · n⌋, and how many negative alive weights AP could choose from.
/// </summary>
public sealed record ApRoundCounts(long AliveBefore, long BaseRemoved, long ApRemoved, long ApTarget, long NegativeCandidates)
{
    /// <summary>True when fewer negative weights were alive than AP's share, so it removed them all.</summary>
    public bool ApShort => ApRemoved < ApTarget;
}

/// <summary>
/// AP, Activating-while-Pruning ("AP: Selective Activation for De-sparsifying Pruned Neural Networks", Liu, Ghosh, Tan,
/// Motani, TMLR 2023), on top of global magnitude pruning. One round with total rate P % and AP rate q %, both of the
/// n alive masked weights counted once each:
/// <list type="number">
/// <item>the base criterion removes ⌊(P − q)/100 · n⌋ alive weights of smallest |w_end| (ties: lower flat index);</item>
/// <item>AP removes ⌊q/100 · n⌋ of the remaining alive weights with w_end &lt; 0, those that moved least over the round,
/// smallest |w_end − w_start| (ties: lower flat index); when fewer negative weights are alive it removes them all.</item>
/// </list>
/// w_start is the weights at the start of the round's training (after the rewind), w_end at its end.
/// </summary>
public static class ActivatePruning
{
    public const double DefaultApRate = 2;

    public static (PruningMask Mask, ApRoundCounts Counts) Round(PruningMask mask, IReadOnlyDictionary<string, Tensor> end,
        IReadOnlyDictionary<string, Tensor> start, double ratePercent, double apRatePercent = DefaultApRate)
    {
        MagnitudePruning.CheckRate(ratePercent, "rate");
        if (!(apRatePercent > 0 && apRatePercent < ratePercent))
            throw new OptionException("apRate", $"apRate must be a percentage in (0, rate) = (0, {ratePercent}), got {apRatePercent}");
        var entries = new MaskedEntries(mask);
        var wEnd = entries.Gather(end);
        var wStart = entries.Gather(start);
        var (removed, counts) = Select(wEnd, wStart, entries.Alive, ratePercent, apRatePercent);
        return (entries.Without(removed), counts);
    }

    public static (PruningMask Mask, ApRoundCounts Counts) Round(PruningMask mask, IReadOnlyList<NamedParameter> end,
        IReadOnlyDictionary<string, Tensor> start, double ratePercent, double apRatePercent = DefaultApRate) =>
        Round(mask, end.Where(p => mask.Covers(p.Name)).ToDictionary(p => p.Name, p => p.Value), start, ratePercent, apRatePercent);

    /// <summary>The flat indices a round removes (base first, then AP), on flat weights and an alive pattern.</summary>
    public static (int[] Removed, ApRoundCounts Counts) Select(double[] end, double[] start, bool[] alive, double ratePercent,
        double apRatePercent)
    {
        if (end.Length != alive.Length || start.Length != alive.Length) throw new BasinException("AP needs w_end, w_start and the mask " +
            "over the same entries");
        long n = alive.LongCount(a => a);
        long nBase = Ranking.FloorPercent(ratePercent - apRatePercent, n);
        long nAp = Ranking.FloorPercent(apRatePercent, n);
        var magnitude = end.Select(Math.Abs).ToArray();
        var baseRemoved = Ranking.Smallest(magnitude, i => alive[i], nBase);
        var left = (bool[])alive.Clone();
        foreach (var i in baseRemoved) left[i] = false;
        var movement = new double[end.Length];
        for (int i = 0; i < end.Length; i++) movement[i] = Math.Abs(end[i] - start[i]);
        long negatives = Enumerable.Range(0, end.Length).LongCount(i => left[i] && end[i] < 0);
        var apRemoved = Ranking.Smallest(movement, i => left[i] && end[i] < 0, Math.Min(nAp, negatives));
        return ([.. baseRemoved, .. apRemoved], new ApRoundCounts(n, baseRemoved.Length, apRemoved.Length, nAp, negatives));
    }
}
