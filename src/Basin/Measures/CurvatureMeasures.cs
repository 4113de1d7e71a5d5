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
/// feature normalization (features constant on the data folded into the bias first, see FeatureStatistics.FoldConstantHeadFeatures).
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
        using var folded = normalizeFeatures ? Reparametrization.TryCopy(c.Model) : null;   // null: the model cannot be copied
        if (folded is null)
            return RelativeFlatness.Measure(c.Model, c.Data, layer: null, FlatnessVariant.ClosedForm, options, c.CancellationToken).Value;
        FeatureStatistics.FoldConstantHeadFeatures(folded, c.Data, c.Options.ChunkSize);
        return RelativeFlatness.Measure(folded, c.Data, layer: null, FlatnessVariant.ClosedForm, options, c.CancellationToken).Value;
    }
}
