using Basin.Geometry;

namespace Basin.Measures;

/// <summary>
/// Hessian measures through the Hessian engine (Geometry): Tr(H) by Hutchinson and λ_max by Lanczos, over the whole
/// network or the head (its weight and bias), on the first <see cref="MeasureOptions.CurvatureSamples"/> examples;
/// and relative flatness κ_Tr of the head by the softmax cross-entropy closed form, with or without the paper's
/// feature normalization.
/// </summary>
public static class CurvatureMeasures
{
    public static double Trace(MeasureContext c, bool headOnly)
    {
        using var data = ModelParts.Head(c.Data, c.Options.CurvatureSamples);
        using var op = Operator(c, data, headOnly);
        return HessianTrace.Hutchinson(op, c.Options.TraceRelativeError, Math.Min(10, c.Options.MaxProbes), c.Options.MaxProbes, c.Options.Seed, c.CancellationToken).Mean;
    }

    public static double LambdaMax(MeasureContext c, bool headOnly)
    {
        using var data = ModelParts.Head(c.Data, c.Options.CurvatureSamples);
        using var op = Operator(c, data, headOnly);
        return Lanczos.TopEigenvalues(op, 1, c.Options.EigenTolerance, c.Options.MaxLanczosSteps, c.Options.Seed, c.CancellationToken).Values[0];
    }

    public static double RelativeFlatnessOfHead(MeasureContext c, bool normalizeFeatures) =>
        RelativeFlatness.Measure(c.Model, c.Data, layer: null, FlatnessVariant.ClosedForm,
            new FlatnessOptions { NormalizeFeatures = normalizeFeatures, ChunkSize = c.Options.ChunkSize }, c.CancellationToken).Value;

    static HessianVectorProduct Operator(MeasureContext c, Basin.Data.LabeledDataset data, bool headOnly)
    {
        var set = headOnly ? ParameterSet.Select(c.Model, c.Model.HeadName) : ParameterSet.All(c.Model);
        return new HessianVectorProduct(c.Model, data, set, new CurvatureOptions { ChunkSize = c.Options.ChunkSize });
    }
}
