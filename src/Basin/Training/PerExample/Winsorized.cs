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
        // With the c+1 largest values per coordinate (top c, then the bound h) and likewise the c+1 smallest (bound l),
        // the winsorized mean is (Σ x − Σ top c − Σ bottom c + c·h + c·l)/B: one sum and two topk over the example
        // axis, no clamp pass over [B, P]. Ties are counted with multiplicity, as sorting would.
        var columns = perExample.reshape(b, -1);
        var top = columns.topk((int)c + 1, dim: 0, largest: true, sorted: true).values;       // [c+1, P], descending
        var bottom = columns.topk((int)c + 1, dim: 0, largest: false, sorted: true).values;   // [c+1, P], ascending
        var total = columns.sum([0])
            .sub(top.narrow(0, 0, c).sum([0])).add(top[c], c)
            .sub(bottom.narrow(0, 0, c).sum([0])).add(bottom[c], c);
        return total.div(b).reshape(perExample.shape[1..]);
    }
}
