using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;

namespace Basin.Experiments.Geometry;

/// <summary>
/// A spectral density by stochastic Lanczos quadrature: the quadrature nodes and weights per run, the broadening σ,
/// the PNG it was drawn to (null when not drawn) and its estimate of Tr(H)/n.
/// </summary>
public sealed record DensityReport(string? PlotPath, double Sigma, double MeanEigenvalue, IReadOnlyList<IReadOnlyList<double>> Nodes,
    IReadOnlyList<IReadOnlyList<double>> Weights, long Products);

/// <summary>
/// The measures of one target: a layer (Hessian measures by its weight, W ∈ R^{d×m}) or the whole network
/// ("all"; <see cref="RelativeFlatness"/> and <see cref="FeatureRobustness"/> are per layer and stay null there).
/// A measure that was not asked for is null.
/// </summary>
public sealed record LayerGeometry(
    string Layer,
    long Parameters,
    FlatnessResult? RelativeFlatness,
    TraceResult? HessianTrace,
    EigenvalueResult? TopEigen,
    EigenvalueResult? GaussNewtonTop,
    OutlierResult? Outliers,
    DensityReport? Density,
    FeatureRobustnessResult? FeatureRobustness);

/// <summary>
/// What <see cref="MeasureJob.Run"/> measured, on what. <see cref="Missing"/> is set when the work was cancelled: the
/// "layer measure" pairs not measured (the others are in <see cref="Layers"/>); null when everything was measured.
/// </summary>
public sealed record MeasureResult(
    string Model,
    string Dataset,
    string Split,
    long Samples,
    string? WeightsPath,
    IReadOnlyList<string> Measures,
    IReadOnlyList<LayerGeometry> Layers,
    double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<string>? Missing = null);

/// <summary>
/// The head's geometry in one number each, for tables such as the demo's: κ_Tr (closed form, not normalized),
/// the exact trace of the Hessian by the head's weight (closed form, so <see cref="HessianTraceSE"/> is 0),
/// its largest eigenvalue λ_max (Lanczos), and the seconds it took.
/// </summary>
public sealed record GeometrySummary(double RelativeFlatness, double HessianTrace, double HessianTraceSE, double LambdaMax, double Seconds);

/// <summary>Progress of a measurement: which target and measure is being computed, as step <see cref="Step"/> of
/// <see cref="Steps"/>.</summary>
public sealed record MeasureProgress(string Layer, string Measure, int Step, int Steps);
