using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using System.Diagnostics;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Experiments.Geometry;

/// <summary>What `basin reparametrize` does: which layers to report, how to rescale, and when a measure counts as changed.</summary>
public sealed record ReparametrizeSpec
{
    /// <summary>A layer name, null for the head, or "all" (every linear/conv layer plus the whole network).</summary>
    public string? Layer { get; init; }
    /// <summary>One random factor per unit (neuron-wise) instead of one per layer.</summary>
    public bool NeuronWise { get; init; }
    /// <summary>Factors are log-uniform in [1/MaxFactor, MaxFactor].</summary>
    public double MaxFactor { get; init; } = 4;
    public long Seed { get; init; }
    /// <summary>A measure changed when |after − before| > Tolerance·|before|.</summary>
    public double Tolerance { get; init; } = 1e-3;
    public Split Split { get; init; } = Split.Train;
    public long? Samples { get; init; } = 1000;
    public bool Float64 { get; init; }
    public int ChunkSize { get; init; } = 1000;
}

/// <summary>
/// One measure of one target before and after the rescaling. A NaN or infinite value on either side is never
/// "unchanged": <see cref="NotFinite"/> is set, <see cref="Changed"/> too, and the relative change is NaN.
/// </summary>
public sealed record MeasureChange(string Layer, string Measure, double Before, double After, double RelativeChange, bool Changed)
{
    public bool NotFinite { get; init; }
}

/// <summary>
/// The report of <see cref="ReparametrizeJob"/>: the rescalings applied, the largest change of any logit on the
/// data (zero up to rounding: the function is preserved), and every measure before and after.
/// </summary>
public sealed record ReparametrizationReport(
    string Model,
    string Dataset,
    string Split,
    long Samples,
    bool NeuronWise,
    double MaxFactor,
    long Seed,
    double Tolerance,
    IReadOnlyList<Rescaling> Rescalings,
    double MaxOutputChange,
    IReadOnlyList<MeasureChange> Measures,
    double Seconds);

/// <summary>
/// Applies a random function-preserving rescaling to a ReLU network (<see cref="Reparametrization.Random"/>) and
/// reports every geometry measure before and after, marking which changed: relative flatness (the default variant,
/// and with feature normalization; for the head also the neuron-wise and layer-wise variants), the Hessian trace
/// and λ_max by the layer's weight. Random estimates use the same seed before and after, so an invariant estimate
/// sees the same probes and stays equal to rounding.
/// </summary>
public static class ReparametrizeJob
{
    public static ReparametrizationReport Run(string? runId, RunStore? store, string? weightsPath, string? modelSpec, string? dataset,
        string? dataPath, ReparametrizeSpec spec, IProgress<MeasureProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if ((runId is null) == (weightsPath is null)) throw new BasinException("give either a run id (--run) or a " +
            "weights file (--weights)");
        if (spec.Samples is < 1) throw new BasinException($"--samples must be at least 1, got {spec.Samples}");
        var source = ModelSource.Resolve(runId, store, weightsPath, modelSpec, dataset, dataPath);
        using var data = source.LoadData(spec.Split, spec.Samples, atMost: true);
        using var model = source.LoadModel(data, spec.Float64);
        return Compare(model, data, spec, progress, cancellationToken) with { Dataset = source.Dataset };
    }

    /// <summary>Rescales a copy of <paramref name="model"/> (the model itself is left as it is) and compares the measures on
    /// <paramref name="data"/>.</summary>
    public static ReparametrizationReport Compare(Classifier model, LabeledDataset data, ReparametrizeSpec spec,
        IProgress<MeasureProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (!(spec.Tolerance > 0)) throw new BasinException($"--tolerance must be positive, got {spec.Tolerance}");
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; measuring needs at least one sample");
        var clock = Stopwatch.StartNew();
        if (spec.Float64) model.to(ScalarType.Float64);
        using var scaled = Reparametrization.Copy(model);
        var rescalings = Reparametrization.Random(scaled, spec.Seed, spec.NeuronWise, spec.MaxFactor);
        double outputChange = OutputChange(model, scaled, data, spec.ChunkSize);
        if (!double.IsFinite(outputChange))
            throw new BasinException($"the rescaled model's outputs are not finite: factors up to {spec.MaxFactor:G4} overflow its " +
                $"{scaled.parameters().First().dtype} weights; use a smaller --max-factor");
        var before = Values(model, data, spec, "before", progress, cancellationToken);
        var after = Values(scaled, data, spec, "after", progress, cancellationToken);
        var changes = before.Zip(after, (b, a) =>
        {
            if (!double.IsFinite(a.Amount) || !double.IsFinite(b.Amount))
                return new MeasureChange(b.Layer, b.Measure, b.Amount, a.Amount, double.NaN, true) { NotFinite = true };
            double relative = Math.Abs(a.Amount - b.Amount) / Math.Max(Math.Abs(b.Amount), 1e-300);
            return new MeasureChange(b.Layer, b.Measure, b.Amount, a.Amount, relative, !(relative <= spec.Tolerance));
        }).ToArray();
        return new ReparametrizationReport(model.Spec, data.Name, spec.Split.ToString().ToLowerInvariant(), data.Count, spec.NeuronWise,
            spec.MaxFactor, spec.Seed, spec.Tolerance, rescalings, outputChange, changes, clock.Elapsed.TotalSeconds);
    }

    static double OutputChange(Classifier a, Classifier b, LabeledDataset data, int chunkSize)
    {
        using var noGrad = torch.no_grad();
        using var evalA = new EvalMode(a);
        using var evalB = new EvalMode(b);
        double max = 0;
        foreach (var chunk in data.Chunks(chunkSize))
        {
            using var scope = torch.NewDisposeScope();
            var x = chunk.Inputs(a.Head.weight!.dtype);
            max = Math.Max(max, a.forward(x).sub(b.forward(x)).abs().max().ToDouble());
        }
        return max;
    }

    sealed record Value(string Layer, string Measure, double Amount);

    static List<Value> Values(Classifier model, LabeledDataset data, ReparametrizeSpec spec, string phase,
        IProgress<MeasureProgress>? progress, CancellationToken ct)
    {
        var measureSpec = new MeasureSpec
        {
            Layer = spec.Layer,
            Measures = [GeometryMeasures.RelativeFlatness, GeometryMeasures.HessianTrace, GeometryMeasures.TopEigen],
            Top = 1,
            Samples = null,
            Seed = spec.Seed,
            ChunkSize = spec.ChunkSize,
        };
        var progressWithPhase = progress is null
            ? null : new Progress<MeasureProgress>(p => progress.Report(p with { Measure = $"{p.Measure} ({phase})" }));
        var plain = MeasureJob.Measure(model, data, measureSpec, progress: progressWithPhase, cancellationToken: ct);
        var normalized = MeasureJob.Measure(model, data, measureSpec with { Measures = [GeometryMeasures.RelativeFlatness],
            NormalizeFeatures = true }, progress: progressWithPhase, cancellationToken: ct);
        var values = new List<Value>();
        foreach (var layer in plain.Layers)
        {
            if (layer.RelativeFlatness is { } rf)
                values.Add(new Value(layer.Layer, $"relative flatness ({GeometryMeasures.VariantName(rf.Variant)})", rf.Value));
            if (normalized.Layers.FirstOrDefault(l => l.Layer == layer.Layer)?.RelativeFlatness is { } rfn)
                values.Add(new Value(layer.Layer, $"relative flatness ({GeometryMeasures.VariantName(rfn.Variant)}, normalized features)",
                    rfn.Value));
            if (layer.Layer == model.HeadName)
                foreach (var variant in new[] { FlatnessVariant.NeuronWiseMaxEigenvalue, FlatnessVariant.LayerWiseTrace,
                    FlatnessVariant.LayerWiseMaxEigenvalue })
                {
                    var r = RelativeFlatness.Measure(model, data, layer.Layer, variant, new FlatnessOptions { ChunkSize = spec.ChunkSize,
                        Seed = spec.Seed }, ct);
                    values.Add(new Value(layer.Layer, $"relative flatness ({GeometryMeasures.VariantName(variant)})", r.Value));
                }
            if (layer.HessianTrace is { } tr) values.Add(new Value(layer.Layer, $"hessian trace ({tr.Method})", tr.Value));
            if (layer.TopEigen is { } top) values.Add(new Value(layer.Layer, "lambda max", top.Values[0]));
        }
        return values;
    }
}
