using Basin.Curvature;
using Basin.Data;
using Basin.Models;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>Per-feature mean and variance of a layer's input features over a data set, and which features are constant on it.</summary>
static class FeatureStatistics
{
    /// <summary>
    /// Mean, population variance and constant-column mask of <paramref name="features"/>(x) [n, m] over the data, in
    /// float64, chunk by chunk without gradients (inputs in <paramref name="dtype"/>); in the caller's dispose scope.
    /// </summary>
    public static (Tensor Mean, Tensor Variance, Tensor Constant) Moments(LabeledDataset data, int chunkSize, ScalarType dtype,
        Func<Tensor, Tensor> features)
    {
        using var noGrad = torch.no_grad();
        Tensor? sum = null, sumSquares = null;
        long count = 0;
        foreach (var chunk in data.Chunks(chunkSize))
        {
            using var chunkScope = torch.NewDisposeScope();
            var phi = features(chunk.Inputs(dtype)).to_type(ScalarType.Float64);
            var s = phi.sum(dim: 0);
            var q = phi.pow(Scalars.Two).sum(dim: 0);
            if (sum is null) { sum = s.MoveToOuterDisposeScope(); sumSquares = q.MoveToOuterDisposeScope(); }
            else { sum.add_(s, Scalars.One); sumSquares!.add_(q, Scalars.One); }
            count += phi.shape[0];
        }
        if (sum is null || count == 0) throw new BasinException($"{data.Name}: no examples; feature statistics need at least one");
        // E[x²] − E[x]² leaves rounding noise for a constant feature: count it as constant below 1e-12 relative.
        using var total = count.ToScalar();
        using var zero = 0.ToScalar();
        using var relative = 1e-12.ToScalar();
        using var tiny = 1e-300.ToScalar();
        var mean = sum.div(total);
        var variance = sumSquares!.div(total).sub(mean.pow(Scalars.Two)).clamp_min(zero);
        var constant = variance.le(mean.pow(Scalars.Two).mul(relative).add(tiny, Scalars.One));
        return (mean, variance, constant);
    }

    /// <summary>
    /// Moves head input features constant on the data (dead units) into the head's bias and zeroes their columns, in
    /// place: the function on the data is unchanged and normalized κ_Tr becomes invariant to rescaling them.
    /// </summary>
    public static void FoldConstantHeadFeatures(Classifier model, LabeledDataset data, int chunkSize)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var eval = new EvalMode(model);
        var head = model.Head;
        var dtype = head.weight!.dtype;
        var (mean, _, constant) = Moments(data, chunkSize, dtype, x => model.Features(x));
        if (!constant.any().ToBoolean()) return;
        var keep = constant.logical_not().to_type(dtype);
        var w = head.weight!;
        if (head.bias is { } bias) bias.add_(w.mv(mean.to_type(dtype).mul(constant.to_type(dtype))), Scalars.One);
        w.mul_(keep.reshape(1, -1));
    }
}
