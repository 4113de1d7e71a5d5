using Basin.Data;
using Basin.Models;

namespace Basin.Measures;

/// <summary>One point of a training curve: the updates made and the evaluated training loss at that time.</summary>
public sealed record CurvePoint(long Steps, double TrainLoss);

/// <summary>
/// Everything a measure may read: the trained model, its initial weights (same architecture), the training
/// data it was trained on (label noise included; usually a subset of it, see <see cref="MeasureOptions.Samples"/>),
/// and the training curve. The measures never change the model (they restore any weight they perturb).
/// </summary>
public sealed record MeasureContext(Classifier Model, LabeledDataset Data)
{
    public Classifier? Initial { get; init; }
    public IReadOnlyList<CurvePoint> Curve { get; init; } = [];
    public MeasureOptions Options { get; init; } = new();
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Settings of the measures. Defaults follow Jiang et al. (2020) where they give one:
/// margin at the 10th percentile; PAC-Bayes accuracy-drop target 0.1; sharpness search by projected gradient ascent.
/// </summary>
public sealed record MeasureOptions
{
    /// <summary>Training examples measures use (the first N of the training set); null = all.</summary>
    public int? Samples { get; init; } = 1000;
    public double MarginPercentile { get; init; } = 0.10;

    /// <summary>PAC-Bayes flatness: largest noise scale σ keeping the accuracy drop at or below this.</summary>
    public double AccuracyDropTarget { get; init; } = 0.1;
    /// <summary>PAC-Bayes: bisection stops once the measured drop is within this of the target.</summary>
    public double AccuracyDropTolerance { get; init; } = 0.01;
    public int NoiseDraws { get; init; } = 8;
    public int BisectionSteps { get; init; } = 14;

    /// <summary>Worst-case sharpness: radius α of the ball ‖Δ‖₂ ≤ α for "sharpness".</summary>
    public double SharpnessRadius { get; init; } = 0.05;
    /// <summary>Worst-case sharpness: the loss increase whose radius "sharpness-radius" searches.</summary>
    public double SharpnessLossTarget { get; init; } = 0.1;
    public int AscentSteps { get; init; } = 5;
    /// <summary>Examples the sharpness searches evaluate the loss on (the first N of the measurement data).</summary>
    public int SharpnessSamples { get; init; } = 256;
    public int SharpnessBisectionSteps { get; init; } = 8;

    /// <summary>Hessian trace: Hutchinson stops at this relative standard error (or after <see cref="MaxProbes"/>).</summary>
    public double TraceRelativeError { get; init; } = 0.05;
    public int MaxProbes { get; init; } = 50;
    /// <summary>Examples the Hessian measures use (the first N of the measurement data).</summary>
    public int CurvatureSamples { get; init; } = 256;
    public double EigenTolerance { get; init; } = 1e-3;
    public int MaxLanczosSteps { get; init; } = 30;

    /// <summary>Examples whose per-example gradients give gradient noise and m-coherence.</summary>
    public int GradientSamples { get; init; } = 256;
    /// <summary>m of m-coherence: the per-example gradients are taken in groups of m.</summary>
    public int CoherenceGroup { get; init; } = 64;

    /// <summary>Optimization speed: steps until the evaluated training loss first reaches this.</summary>
    public double StepsTargetLoss { get; init; } = 0.5;

    public int ChunkSize { get; init; } = 1000;
    public long Seed { get; init; }
}
