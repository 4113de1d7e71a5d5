using Basin.Native;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// Hessian measures of the sweep on the first <see cref="MeasureOptions.CurvatureSamples"/> examples, by the policy of
/// <see cref="CurvatureEstimates"/> (the CLI's): Tr(H) and λ_max over all parameters or the head's weight and bias;
/// and relative flatness κ_Tr of the head by the softmax cross-entropy closed form, with or without the paper's
/// feature normalization (features constant on the data folded into the bias first, see FoldConstantFeatures).
/// </summary>
public static class CurvatureMeasures
{
    public static double Trace(MeasureContext c, bool headOnly)
    {
        using var data = ModelParts.Head(c.Data, c.Options.CurvatureSamples);
        var parameters = Parameters(c, headOnly);
        return CurvatureEstimates.Trace(c.Model, data, parameters, Estimates(c.Options), cancellationToken: c.CancellationToken).Value;
    }

    public static double LambdaMax(MeasureContext c, bool headOnly)
    {
        using var data = ModelParts.Head(c.Data, c.Options.CurvatureSamples);
        var parameters = Parameters(c, headOnly);
        var top = CurvatureEstimates.TopEigenvalues(c.Model, data, parameters, 1, Estimates(c.Options), null, c.CancellationToken);
        return top.Values[0];
    }

    static ParameterSet Parameters(MeasureContext c, bool headOnly) =>
        headOnly ? ParameterSet.Select(c.Model, c.Model.HeadName) : ParameterSet.All(c.Model);

    static EstimateOptions Estimates(MeasureOptions o) => new()
    {
        RelativeStandardError = o.TraceRelativeError,
        MaxProbes = o.MaxProbes,
        EigenTolerance = o.EigenTolerance,
        MaxLanczosSteps = o.MaxLanczosSteps,
        ChunkSize = o.ChunkSize,
        Seed = o.Seed,
    };

    public static double RelativeFlatnessOfHead(MeasureContext c, bool normalizeFeatures)
    {
        var options = new FlatnessOptions { NormalizeFeatures = normalizeFeatures, ChunkSize = c.Options.ChunkSize };
        using var blank = normalizeFeatures ? c.Model.NewOfSameArchitecture() : null;   // null: the model cannot be copied
        if (blank is null)
            return RelativeFlatness.Measure(c.Model, c.Data, layer: null, FlatnessVariant.ClosedForm, options, c.CancellationToken).Value;
        using var folded = Reparametrization.Copy(c.Model);
        FoldConstantFeatures(folded, c.Data, c.Options.ChunkSize);
        return RelativeFlatness.Measure(folded, c.Data, layer: null, FlatnessVariant.ClosedForm, options, c.CancellationToken).Value;
    }

    /// <summary>
    /// Feature normalization divides by each feature's standard deviation, which is undefined for a feature that is
    /// constant on the data (a dead ReLU unit). Such a feature's head column still enters κ_Tr through ⟨W_s, W_t⟩, and
    /// rescaling the unit would change κ. Its contribution W_{·j}·c_j is the same for every example, so it is moved into
    /// the head's bias and the column set to zero: the function on the data is unchanged and κ becomes invariant.
    /// </summary>
    internal static void FoldConstantFeatures(Classifier model, LabeledDataset data, int chunkSize)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var eval = new EvalMode(model);
        var head = model.Head;
        var dtype = head.weight!.dtype;
        Tensor? sum = null, sumSquares = null;
        for (long start = 0; start < data.Count; start += chunkSize)
        {
            long n = Math.Min(chunkSize, data.Count - start);
            var phi = model.Features(data.Inputs.narrow(0, start, n).to_type(dtype)).to_type(ScalarType.Float64);
            sum = sum is null ? phi.sum(dim: 0) : sum.add(phi.sum(dim: 0), Scalars.One);
            sumSquares = sumSquares is null ? phi.pow(Scalars.Two).sum(dim: 0) : sumSquares.add(phi.pow(Scalars.Two).sum(dim: 0), Scalars.One);
        }
        using var total = data.Count.ToScalar();
        using var zero = 0.ToScalar();
        using var relative = 1e-12.ToScalar();
        using var tiny = 1e-300.ToScalar();
        var mean = sum!.div(total);
        var variance = sumSquares!.div(total).sub(mean.pow(Scalars.Two)).clamp_min(zero);
        var constant = variance.le(mean.pow(Scalars.Two).mul(relative).add(tiny, Scalars.One));
        if (!constant.any().ToBoolean()) return;
        var keep = constant.logical_not().to_type(dtype);
        var w = head.weight!;
        if (head.bias is { } bias) bias.add_(w.mv(mean.to_type(dtype).mul(constant.to_type(dtype))), Scalars.One);
        w.mul_(keep.reshape(1, -1));
    }
}
