using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using System.Diagnostics;
using Basin.Data;
using Basin.Models;
using Basin.Measures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Experiments.Geometry;

/// <summary>
/// Measures the loss-surface geometry of saved weights (`basin geometry`): relative flatness, Hessian trace, top
/// eigenvalues, spectral density, Gauss–Newton eigenvalues, outliers and feature robustness, per layer.
/// <para>A layer's Hessian measures are taken by its weight W (not the bias), the same matrix relative flatness uses;
/// <see cref="CurvatureEstimates"/> picks the operator and the estimators (the head's closed forms, exact diagonals of
/// small layers, Hutchinson, Lanczos), and <see cref="Flatness.RelativeFlatness.DefaultVariant"/> the flatness variant.
/// The layer "all" means every linear and conv layer, plus a row "all" with the Hessian measures of the whole network.</para>
/// </summary>
public static class MeasureJob
{
    /// <summary>Name of the whole-network target.</summary>
    public const string AllParameters = "all";

    /// <summary>
    /// Measures saved weights: a recorded run's (<paramref name="runId"/>) or a safetensors file's. Data: the run's or
    /// the named data set (split and sample count from <paramref name="spec"/>), or <paramref name="tensorsPath"/>,
    /// a safetensors file with "input" [N,...] (floating) and "labels" [N] (int64). Density plots go to
    /// <see cref="MeasureSpec.PlotPath"/>, else the run's folder, else the working directory. <paramref name="approve"/>,
    /// when given, sees the cost bound (<see cref="MeasureCost"/>) once the model and data are loaded and before any
    /// measure; it may throw to stop there.
    /// </summary>
    public static MeasureResult Run(string? runId, RunStore? store, string? weightsPath, string? modelSpec, string? dataset,
        string? dataPath, string? tensorsPath, MeasureSpec spec, IProgress<MeasureProgress>? progress = null,
        CancellationToken cancellationToken = default, Action<MeasureCost>? approve = null)
    {
        if ((runId is null) == (weightsPath is null)) throw new BasinException("give either a run id (--run) or a " +
            "weights file (--weights)");
        if (spec.Samples is < 1) throw new BasinException($"--samples must be at least 1, got {spec.Samples}");
        if (tensorsPath is not null && dataset is not null) throw new BasinException("give either --dataset or --tensors, not both");
        var source = ModelSource.Resolve(runId, store, weightsPath, modelSpec,
            tensorsPath is null ? dataset : Path.GetFileName(tensorsPath), dataPath);
        using var data = tensorsPath is null ? source.LoadData(spec.Split, spec.Samples, atMost: true) : LoadTensors(tensorsPath,
            source.WeightsPath, spec.Samples);
        using var model = source.LoadModel(data, spec.Float64);
        var result = Measure(model, data, spec, source.RunFolder ?? Directory.GetCurrentDirectory(), progress, cancellationToken,
            approve);
        return result with
        {
            Dataset = source.Dataset,
            Split = tensorsPath is null ? result.Split : "file",
            WeightsPath = source.WeightsPath,
        };
    }

    /// <summary>Measures <paramref name="model"/> on <paramref name="data"/> (all of it; take a subset first to limit the cost).</summary>
    /// <param name="plotFolder">Where density plots go when <see cref="MeasureSpec.PlotPath"/> is null.</param>
    /// <param name="approve">Sees the cost bound before any measure (see <see cref="Run"/>).</param>
    public static MeasureResult Measure(Classifier model, LabeledDataset data, MeasureSpec spec, string? plotFolder = null,
        IProgress<MeasureProgress>? progress = null, CancellationToken cancellationToken = default, Action<MeasureCost>? approve = null) =>
        Measure(model, data, spec, null, plotFolder, progress, cancellationToken, approve);

    /// <summary>As above, for <paramref name="only"/> of the spec's targets (the layer names and <see cref="AllParameters"/>)
    /// when given.</summary>
    internal static MeasureResult Measure(Classifier model, LabeledDataset data, MeasureSpec spec, IReadOnlyList<string>? only,
        string? plotFolder, IProgress<MeasureProgress>? progress, CancellationToken cancellationToken, Action<MeasureCost>? approve)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(spec);
        Validate(spec);
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; measuring needs at least one sample");
        var clock = Stopwatch.StartNew();
        if (spec.Float64) model.to(ScalarType.Float64);
        var targets = Targets(model, spec.Layer);
        if (only is not null) targets = targets.Where(only.Contains).ToArray();
        var requested = MeasureRegistry.Resolve(spec.Measures, MeasureScope.Layer);
        var measures = GeometryMeasures.All.Where(requested.Contains).ToArray();
        if (approve is not null) approve(MeasureCost.Estimate(model, data, spec, targets, measures, cancellationToken));
        // Every "layer measure" pair to do; a pair leaves the list when measured, so what is left on cancel is missing.
        var pending = targets.SelectMany(t => measures.Where(m => t != AllParameters
            || !GeometryMeasures.LayerOnly(m)).Select(m => $"{t} {m}")).ToList();
        int steps = pending.Count;
        var densityTargets = measures.Contains(GeometryMeasures.Density) ? targets.Count : 0;
        int step = 0;
        var layers = new List<LayerGeometry>();
        foreach (var target in targets)
        {
            using var measurer = new TargetMeasurer(model, data, target, spec, cancellationToken);
            FlatnessResult? flatness = null;
            TraceResult? trace = null;
            EigenvalueResult? top = null, gaussNewton = null;
            OutlierResult? outliers = null;
            DensityReport? density = null;
            FeatureRobustnessResult? robustness = null;
            foreach (var measure in measures)
            {
                if (target == AllParameters && GeometryMeasures.LayerOnly(measure)) continue;
                if (cancellationToken.IsCancellationRequested) break;
                progress?.Report(new MeasureProgress(target, measure, ++step, steps));
                try
                {
                    switch (measure)
                    {
                        case GeometryMeasures.RelativeFlatness: flatness = measurer.RelativeFlatness(); break;
                        case GeometryMeasures.HessianTrace: trace = measurer.Trace(); break;
                        case GeometryMeasures.TopEigen: top = measurer.TopEigen(); break;
                        case GeometryMeasures.GaussNewtonTop: gaussNewton = measurer.GaussNewtonTop(); break;
                        case GeometryMeasures.Outliers: outliers = measurer.Outliers(); break;
                        case GeometryMeasures.Density: density = measurer.Density(PlotPath(spec.PlotPath, plotFolder, target,
                            densityTargets), model.Spec); break;
                        case GeometryMeasures.FeatureRobustness: robustness = measurer.FeatureRobustness(); break;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;   // what is finished is kept; the rest is listed as missing
                }
                pending.Remove($"{target} {measure}");
            }
            bool any = flatness is not null || trace is not null || top is not null || gaussNewton is not null || outliers is not null
                || density is not null || robustness is not null;
            if (any || !cancellationToken.IsCancellationRequested)
                layers.Add(new LayerGeometry(target, measurer.Dimension, flatness, trace, top, gaussNewton, outliers, density, robustness));
            if (cancellationToken.IsCancellationRequested) break;
        }
        if (cancellationToken.IsCancellationRequested && layers.Count == 0) cancellationToken.ThrowIfCancellationRequested();
        return new MeasureResult(model.Spec, data.Name, spec.Split.ToString().ToLowerInvariant(), data.Count, null, measures, layers,
            clock.Elapsed.TotalSeconds, cancellationToken.IsCancellationRequested ? pending : null);
    }

    /// <summary>
    /// The head's geometry for a summary table, fast: one pass over the first <paramref name="maxSamples"/> examples
    /// computes the features; κ_Tr and Tr(H) follow in closed form and λ_max by Lanczos on exact products.
    /// </summary>
    public static GeometrySummary Summarize(Classifier model, LabeledDataset data, int maxSamples = 2000,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (maxSamples < 1) throw new BasinException($"the summary needs at least 1 sample, got {maxSamples}");
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; measuring needs at least one sample");
        var clock = Stopwatch.StartNew();
        using var subset = data.Count > maxSamples ? data.Take(maxSamples) : null;
        var weight = ParameterSet.Select(model, model.HeadName + ".weight");
        using var head = (HeadCurvature)CurvatureEstimates.Hessian(model, subset ?? data, weight, cancellationToken: cancellationToken);
        using var w = model.Head.weight!.detach();
        double kappa = head.Kappa(w);
        var trace = CurvatureEstimates.Trace(model, subset ?? data, weight, hessian: head, cancellationToken: cancellationToken);
        var top = CurvatureEstimates.TopEigenvalues(head, 1, cancellationToken: cancellationToken);
        return new GeometrySummary(kappa, trace.Value, trace.StandardError, top.Values[0], clock.Elapsed.TotalSeconds);
    }

    static void Validate(MeasureSpec spec)
    {
        if (spec.Measures.Count == 0) throw new BasinException($"no measure given; measures: {string.Join(", ", GeometryMeasures.All)}");
        var measures = MeasureRegistry.Resolve(spec.Measures, MeasureScope.Layer);
        if (spec.Top < 1) throw new BasinException($"--top must be at least 1, got {spec.Top}");
        if (spec.ChunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {spec.ChunkSize}");
        if (!(spec.WeightDecay >= 0) || double.IsInfinity(spec.WeightDecay)) throw new BasinException("--weight-decay must be a finite " +
            $"number ≥ 0, got {spec.WeightDecay}");
        if (!(spec.RelativeStandardError > 0)) throw new BasinException("the relative standard error must be positive, got " +
            $"{spec.RelativeStandardError}");
        if (spec.MaxProbes < 2) throw new BasinException($"--max-probes must be at least 2, got {spec.MaxProbes}");
        if (spec.TraceSketch < 0) throw new OptionException("traceSketch", $"--trace-sketch must be at least 0, got {spec.TraceSketch}");
        if (measures.Contains(GeometryMeasures.FeatureRobustness))
        {
            if (spec.Deltas.Count == 0) throw new BasinException("--deltas needs at least one δ");
            if (spec.Deltas.Any(d => !(d > 0) || double.IsInfinity(d))) throw new BasinException("--deltas must be finite positive " +
                $"numbers, got {string.Join(",", spec.Deltas)}");
        }
    }

    /// <summary>The layer names to measure: the head (null), one linear/conv layer, or every one of them plus "all".</summary>
    internal static IReadOnlyList<string> Targets(Classifier model, string? layer)
    {
        if (layer is null) return [model.HeadName];
        if (string.Equals(layer, AllParameters, StringComparison.OrdinalIgnoreCase))
            return model.named_modules().Where(nm => nm.name.Length > 0
                && nm.module is Linear or Conv2d).Select(nm => nm.name).Append(AllParameters).ToArray();
        return [FlatLayer.Resolve(model, layer).Name];
    }

    static string PlotPath(string? requested, string? folder, string target, int targets)
    {
        var safe = string.Concat(target.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        if (requested is null) return Path.Combine(folder ?? Directory.GetCurrentDirectory(), $"density-{safe}.png");
        if (targets <= 1) return requested;
        var ext = Path.GetExtension(requested);
        return Path.Combine(Path.GetDirectoryName(requested) ?? "",
            Path.GetFileNameWithoutExtension(requested) + "-" + safe + (ext.Length > 0 ? ext : ".png"));
    }

    /// <summary>
    /// Reads a safetensors data file (<see cref="TensorFile"/>). The class count is the number of rows of the weights
    /// file's last 2-D ".weight" tensor (the head), so labels need not use every class.
    /// </summary>
    static LabeledDataset LoadTensors(string path, string weightsPath, long? samples)
    {
        if (!File.Exists(path)) throw new BasinException($"tensors file not found: {path}");
        int classes;
        using (var weights = SafeTensors.Load(weightsPath))
        {
            var head = weights.Tensors.LastOrDefault(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && kv.Value.dim() == 2);
            if (head.Key is null) throw new BasinException($"{weightsPath} has no 2-D weight tensor to read the class count from");
            classes = checked((int)head.Value.shape[0]);
        }
        var data = TensorFile.Load(path, classes);
        if (samples is not long n || n >= data.Count) return data;
        using (data) return data.Take(n);
    }

    /// <summary>One target's measures, sharing its curvature operator (built on first use).</summary>
    sealed class TargetMeasurer : IDisposable
    {
        readonly Classifier model;
        readonly LabeledDataset data;
        readonly string target;
        readonly MeasureSpec spec;
        readonly CancellationToken cancellationToken;
        ICurvatureProduct? hessian;

        public TargetMeasurer(Classifier model, LabeledDataset data, string target, MeasureSpec spec, CancellationToken cancellationToken)
        {
            this.model = model;
            this.data = data;
            this.target = target;
            this.spec = spec;
            this.cancellationToken = cancellationToken;
            Dimension = target == AllParameters ? ParameterSet.All(model).Count : FlatLayer.Resolve(model, target).Weight.numel();
        }

        public long Dimension { get; }

        EstimateOptions Estimates => new()
        {
            RelativeStandardError = spec.RelativeStandardError,
            MinProbes = spec.MinProbes,
            MaxProbes = spec.MaxProbes,
            ForceHutchinson = spec.Hutchinson,
            TraceSketch = spec.TraceSketch,
            EigenTolerance = spec.EigenTolerance,
            MaxLanczosSteps = spec.MaxLanczosSteps,
            ChunkSize = spec.ChunkSize,
            Seed = spec.Seed,
        };

        ParameterSet Parameters() => target == AllParameters ? ParameterSet.All(model) : ParameterSet.Select(model, target + ".weight");

        ICurvatureProduct Hessian() => hessian ??= CurvatureEstimates.Hessian(model, data, Parameters(), Estimates, cancellationToken);

        public FlatnessResult RelativeFlatness()
        {
            var variant = spec.Variant ?? Flatness.RelativeFlatness.DefaultVariant(model, target);
            var options = new FlatnessOptions
            {
                Normalized = spec.Normalized,
                // The spec's α is train's (a loss term α/2·‖w‖²: the Hessian gains α per diagonal entry); FlatnessOptions
                // counts a loss term α'·‖W‖² (the Hessian gains 2α'), so α' = α/2. The result reports the spec's α.
                WeightDecay = spec.WeightDecay / 2,
                NormalizeFeatures = spec.NormalizeFeatures,
                FoldConstantFeatures = true,   // as the sweep's measure does: dead units fold, so the value is invariant
                ChunkSize = spec.ChunkSize,
                RelativeStandardError = spec.RelativeStandardError,
                MinSamples = spec.MinProbes,
                MaxSamples = spec.MaxProbes,
                EigenTolerance = spec.EigenTolerance,
                MaxLanczosSteps = spec.MaxLanczosSteps,
                Seed = spec.Seed,
            };
            return Flatness.RelativeFlatness.Measure(model, data, target, variant, options,
                cancellationToken) with { WeightDecay = spec.WeightDecay };
        }

        public TraceResult Trace() => CurvatureEstimates.Trace(model, data, Parameters(), Estimates, Hessian(), cancellationToken);

        public EigenvalueResult TopEigen() => CurvatureEstimates.TopEigenvalues(Hessian(), spec.Top, Estimates, cancellationToken);

        public EigenvalueResult GaussNewtonTop()
        {
            var ggn = CurvatureEstimates.GaussNewton(model, data, Parameters(), Estimates, cancellationToken);
            try { return CurvatureEstimates.TopEigenvalues(ggn, spec.Top, Estimates, cancellationToken); }
            finally { (ggn as IDisposable)?.Dispose(); }
        }

        public OutlierResult Outliers() => CurvatureEstimates.Outliers(Hessian(), model.ClassCount, spec.Top, Estimates, cancellationToken);

        public DensityReport Density(string plotPath, string modelSpec)
        {
            var d = CurvatureEstimates.Density(Hessian(), spec.DensityRuns, spec.DensitySteps, Estimates, cancellationToken);
            DensityPlot.Save(d, plotPath, $"Hessian spectral density: {modelSpec}, " +
                $"{(target == AllParameters ? "all parameters" : target + ".weight")}");
            return new DensityReport(Path.GetFullPath(plotPath), d.Sigma, d.Mean, d.Nodes, d.Weights, d.Products);
        }

        public FeatureRobustnessResult FeatureRobustness() =>
            Flatness.FeatureRobustness.Measure(model, data, spec.Deltas, target, spec.RobustnessSamples, spec.Seed,
                new FlatnessOptions { ChunkSize = spec.ChunkSize }, cancellationToken);

        public void Dispose()
        {
            (hessian as IDisposable)?.Dispose();
        }
    }
}
