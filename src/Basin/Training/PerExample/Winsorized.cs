using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// Winsorized gradient descent ("Making Coherence Out of Nothing At All", Chatterjee &amp; Zielinski 2022): for each
/// coordinate, the c largest and the c smallest per-example values are set to the next value inward, then
/// averaged. c = 0 is plain SGD, and takes the plain backward path (so it equals SGD bit for bit). A batch too
/// small for c (2c ≥ B, e.g. a short last batch) is winsorized with c = ⌊(B−1)/2⌋, the median.
/// </summary>
public sealed record Winsorized(int C = 1) : PerExampleAggregation
{
    public override string Name => $"winsorized(c {C})";

    public override ObjectiveValue ComputeGradients(GradientContext context)
    {
        if (C < 0) throw new BasinException($"winsorizing needs c ≥ 0, got {C}");
        return C == 0 ? new Backpropagation().ComputeGradients(context) : base.ComputeGradients(context);
    }

    protected override Tensor Aggregate(Tensor perExample)
    {
        long b = perExample.shape[0];
        long c = Math.Min(C, (b - 1) / 2);
        if (c == 0) return perExample.mean([0]);
        // Per coordinate, the (c+1)-th largest and smallest values bound the kept range. For the small c that
        // winsorizing uses, c+1 rounds of max (min) over the example axis, each striking out the extreme it found,
        // are cheaper than sorting or topk: every round is one vectorized reduction over [B, P].
        var columns = perExample.reshape(b, -1);
        var high = KthExtreme(columns, c, largest: true);
        var low = KthExtreme(columns, c, largest: false);
        return columns.clamp(low, high).mean([0]).reshape(perExample.shape[1..]);
    }

    /// <summary>The (k+1)-th largest (smallest) value in each column of [B, P].</summary>
    static Tensor KthExtreme(Tensor columns, long k, bool largest)
    {
        var work = columns.clone();
        double strike = largest ? double.NegativeInfinity : double.PositiveInfinity;
        for (long j = 0; ; j++)
        {
            var (values, indices) = largest ? work.max(0) : work.min(0);
            if (j == k) return values;
            var at = indices.unsqueeze(0);
            work.scatter_(0, at, full(at.shape, strike, work.dtype, work.device));
        }
    }
}
