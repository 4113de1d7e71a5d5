using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Measures;

namespace Basin.Experiments.Geometry;

/// <summary>The per-layer measures <see cref="MeasureJob"/> computes, by their names in the catalog (MeasureRegistry).</summary>
public static class GeometryMeasures
{
    public const string RelativeFlatness = "relative-flatness";
    public const string HessianTrace = "hessian-trace-weight";
    public const string TopEigen = "top-eigenvalues-weight";
    public const string Density = "density";
    public const string GaussNewtonTop = "gauss-newton-top";
    public const string Outliers = "outliers";
    public const string FeatureRobustness = "feature-robustness";

    /// <summary>Every per-layer measure of the catalog, in the order the job computes them.</summary>
    public static IReadOnlyList<string> All { get; } = MeasureRegistry.NamesIn(MeasureScope.Layer);

    /// <summary>The measures that exist per layer only (the whole-network row "all" has the Hessian ones).</summary>
    public static bool LayerOnly(string measure) => measure is RelativeFlatness or FeatureRobustness;

    /// <summary>
    /// Parses a comma-separated list ("relative-flatness,top-eigenvalues-weight"; "all" is every measure); old names are
    /// mapped, with a note each in <paramref name="notes"/>; unknown names throw (see <see cref="MeasureRegistry.Resolve"/>).
    /// </summary>
    public static IReadOnlyList<string> Parse(string list, ICollection<string>? notes = null) =>
        MeasureRegistry.Resolve([list], MeasureScope.Layer, notes);

    static readonly (string Name, FlatnessVariant Variant)[] Variants =
    [
        ("closed-form", FlatnessVariant.ClosedForm), ("block", FlatnessVariant.Block), ("estimator", FlatnessVariant.Estimator),
        ("neuron-max", FlatnessVariant.NeuronWiseMaxEigenvalue), ("layer-trace", FlatnessVariant.LayerWiseTrace),
        ("layer-max", FlatnessVariant.LayerWiseMaxEigenvalue),
    ];

    public static FlatnessVariant ParseVariant(string name) =>
        Variants.FirstOrDefault(v => v.Name == name.Trim().ToLowerInvariant()) is { Name: not null } v ? v.Variant
            : throw new BasinException($"unknown relative-flatness variant '{name}'; variants: " +
            $"{string.Join(", ", Variants.Select(x => x.Name))}");

    public static string VariantName(FlatnessVariant variant) => Variants.First(v => v.Variant == variant).Name;
}

/// <summary>
/// What <see cref="MeasureJob"/> measures, on which layer and data. Defaults give the head's relative flatness
/// (closed form), exact Hessian trace and top-5 eigenvalues by its weight on 2000 training examples.
/// </summary>
public sealed record MeasureSpec
{
    /// <summary>A linear or conv layer name ("fc3"), null for the head, or "all": every linear/conv layer plus the whole network.</summary>
    public string? Layer { get; init; }
    public IReadOnlyList<string> Measures { get; init; } = [GeometryMeasures.RelativeFlatness, GeometryMeasures.HessianTrace,
        GeometryMeasures.TopEigen];
    public Split Split { get; init; } = Split.Train;
    /// <summary>The first N examples of the split; null = all.</summary>
    public long? Samples { get; init; } = 2000;

    /// <summary>Relative-flatness variant; null: closed form for the head, block for layers of ≤ 1024 weights, else the
    /// estimator.</summary>
    public FlatnessVariant? Variant { get; init; }
    public bool Normalized { get; init; }
    /// <summary>Weight decay α as 'basin train --weight-decay' means it (a loss term α/2·‖w‖², so the Hessian gains α per diagonal
    /// entry).</summary>
    public double WeightDecay { get; init; }
    public bool NormalizeFeatures { get; init; }

    /// <summary>Eigenvalues for top-eigenvalues-weight and gauss-newton-top.</summary>
    public int Top { get; init; } = 5;
    /// <summary>Lanczos: relative Ritz-residual tolerance and step limit.</summary>
    public double EigenTolerance { get; init; } = EstimateOptions.Default.EigenTolerance;
    public int MaxLanczosSteps { get; init; } = EstimateOptions.Default.MaxLanczosSteps;

    /// <summary>Hutchinson (and the flatness estimator): stop once SE ≤ this·|mean|, between the probe limits.</summary>
    public double RelativeStandardError { get; init; } = EstimateOptions.Default.RelativeStandardError;
    public int MinProbes { get; init; } = EstimateOptions.Default.MinProbes;
    public int MaxProbes { get; init; } = EstimateOptions.Default.MaxProbes;
    /// <summary>Lanczos steps of the sketch Hutchinson's trace is deflated by; 0 is plain Hutchinson.</summary>
    public int TraceSketch { get; init; } = EstimateOptions.Default.TraceSketch;
    /// <summary>Force Hutchinson even where the trace has a closed form (the head with cross-entropy).</summary>
    public bool Hutchinson { get; init; }

    /// <summary>Stochastic Lanczos quadrature: runs and steps; the PNG goes to <see cref="PlotPath"/> (see
    /// <see cref="MeasureJob"/>).</summary>
    public int DensityRuns { get; init; } = 1;
    public int DensitySteps { get; init; } = 90;
    public string? PlotPath { get; init; }

    /// <summary>Feature robustness: perturbation sizes δ and random orthogonal matrices per δ.</summary>
    public IReadOnlyList<double> Deltas { get; init; } = [0.01, 0.03, 0.1];
    public int RobustnessSamples { get; init; } = 20;

    /// <summary>Convert the model to float64 before measuring.</summary>
    public bool Float64 { get; init; }
    public int ChunkSize { get; init; } = 1000;
    public long Seed { get; init; }
}
