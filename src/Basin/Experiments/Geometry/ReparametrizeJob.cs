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
/// data (zero up to rounding: the function is preserved), and every measure before and after. <see cref="Missing"/> is
/// set when the work was cancelled: the "layer measure" comparisons not made (null when every one was).
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
    double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<string>? Missing = null);

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
        var comparisons = Comparisons(model, data, spec);
        int steps = 2 * comparisons.Count, step = 0;
        var changes = new List<MeasureChange>();
        var missing = new List<string>();
        foreach (var c in comparisons)
        {
            if (cancellationToken.IsCancellationRequested) { missing.Add($"{c.Layer} {c.Name}"); continue; }
            try
            {
                progress?.Report(new MeasureProgress(c.Layer, $"{c.Name} (before)", ++step, steps));
                var b = c.Take(model, cancellationToken);
                progress?.Report(new MeasureProgress(c.Layer, $"{c.Name} (after)", ++step, steps));
                var a = c.Take(scaled, cancellationToken);
                changes.Add(Change(c.Layer, b, a, spec.Tolerance));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                missing.Add($"{c.Layer} {c.Name}");   // what is finished is kept; the rest is listed as missing
            }
        }
        if (changes.Count == 0) cancellationToken.ThrowIfCancellationRequested();
        return new ReparametrizationReport(model.Spec, data.Name, spec.Split.ToString().ToLowerInvariant(), data.Count, spec.NeuronWise,
            spec.MaxFactor, spec.Seed, spec.Tolerance, rescalings, outputChange, changes, clock.Elapsed.TotalSeconds,
            missing.Count > 0 ? missing : null);
    }

    /// <summary>A NaN or infinite value on either side is "not finite" (and changed), never "unchanged".</summary>
    static MeasureChange Change(string layer, Value before, Value after, double tolerance)
    {
        if (!double.IsFinite(after.Amount) || !double.IsFinite(before.Amount))
            return new MeasureChange(layer, before.Label, before.Amount, after.Amount, double.NaN, true) { NotFinite = true };
        double relative = Math.Abs(after.Amount - before.Amount) / Math.Max(Math.Abs(before.Amount), 1e-300);
        return new MeasureChange(layer, before.Label, before.Amount, after.Amount, relative, !(relative <= tolerance));
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

    /// <summary>A measure's label as reported ("hessian trace (exact)") and its value.</summary>
    sealed record Value(string Label, double Amount);

    /// <summary>One measure of one target, taken from the original model and from the rescaled one in turn.</summary>
    sealed record Comparison(string Layer, string Name, Func<Classifier, CancellationToken, Value> Take);

    /// <summary>
    /// Per target (a layer, or the whole network for "all"): relative flatness (the default variant, and with
    /// feature normalization; for the head also the neuron-wise and layer-wise variants), the Hessian trace and
    /// λ_max by the layer's weight.
    /// </summary>
    static List<Comparison> Comparisons(Classifier model, LabeledDataset data, ReparametrizeSpec spec)
    {
        var measureSpec = new MeasureSpec { Top = 1, Samples = null, Seed = spec.Seed, ChunkSize = spec.ChunkSize };
        LayerGeometry One(Classifier m, string target, MeasureSpec s, CancellationToken ct) =>
            MeasureJob.Measure(m, data, s with { Layer = target }, [target], null, null, ct, null).Layers.Single();
        var list = new List<Comparison>();
        foreach (var target in MeasureJob.Targets(model, spec.Layer))
        {
            if (target != MeasureJob.AllParameters)
            {
                var variant = GeometryMeasures.VariantName(RelativeFlatness.DefaultVariant(model, target));
                list.Add(new Comparison(target, $"relative flatness ({variant})", (m, ct) =>
                {
                    var rf = One(m, target, measureSpec with { Measures = [GeometryMeasures.RelativeFlatness] }, ct).RelativeFlatness!;
                    return new Value($"relative flatness ({GeometryMeasures.VariantName(rf.Variant)})", rf.Value);
                }));
                list.Add(new Comparison(target, $"relative flatness ({variant}, normalized features)", (m, ct) =>
                {
                    var rf = One(m, target, measureSpec with { Measures = [GeometryMeasures.RelativeFlatness], NormalizeFeatures = true },
                        ct).RelativeFlatness!;
                    return new Value($"relative flatness ({GeometryMeasures.VariantName(rf.Variant)}, normalized features)", rf.Value);
                }));
                if (target == model.HeadName)
                    foreach (var v in new[] { FlatnessVariant.NeuronWiseMaxEigenvalue, FlatnessVariant.LayerWiseTrace,
                        FlatnessVariant.LayerWiseMaxEigenvalue })
                    {
                        var name = $"relative flatness ({GeometryMeasures.VariantName(v)})";
                        list.Add(new Comparison(target, name, (m, ct) => new Value(name, RelativeFlatness.Measure(m, data, target, v,
                            new FlatnessOptions { ChunkSize = spec.ChunkSize, Seed = spec.Seed }, ct).Value)));
                    }
            }
            list.Add(new Comparison(target, "hessian trace", (m, ct) =>
            {
                var tr = One(m, target, measureSpec with { Measures = [GeometryMeasures.HessianTrace] }, ct).HessianTrace!;
                return new Value($"hessian trace ({tr.Method})", tr.Value);
            }));
            list.Add(new Comparison(target, "lambda max", (m, ct) => new Value("lambda max",
                One(m, target, measureSpec with { Measures = [GeometryMeasures.TopEigen] }, ct).TopEigen!.Values[0])));
        }
        return list;
    }
}
