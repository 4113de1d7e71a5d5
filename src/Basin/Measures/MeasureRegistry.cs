using static Basin.Measures.CostClass;
using static Basin.Measures.Invariance;

namespace Basin.Measures;

/// <summary>
/// Every generalization measure of METHODS.md §7 by name, with its facts. Names are what `basin measures` lists,
/// what sweep files and --measures name, and the keys in the run database.
/// </summary>
public static class MeasureRegistry
{
    static Measure M(string name, string definition, string reads, bool init, Invariance invariance, CostClass cost, Func<MeasureContext, double> f) =>
        new(new MeasureFacts(name, definition, reads, init, invariance, cost), f);

    static double Gamma(MeasureContext c) => Margin.Percentile(c.Model, c.Data, c.Options.MarginPercentile, c.Options.ChunkSize);

    // log(x/γ²) = log x + log(1/γ²); +∞ when the margin is not positive.
    static double OverMargin(double logValue, double gamma) => gamma > 0 ? logValue - 2 * Math.Log(gamma) : double.PositiveInfinity;

    public static IReadOnlyList<Measure> All { get; } =
    [
        M("params", "number of parameters", "all parameters", false, NeuronWise, Weights,
            c => c.Model.parameters().Sum(p => p.numel())),
        M("inverse-margin", "1/γ², γ = 10th percentile of (true logit − largest other logit) on the training data", "outputs", false, NeuronWise, Forward,
            c => Margin.InverseSquared(Gamma(c))),
        M("log-prod-frobenius", "Σ_l log ‖W_l‖_F²  (log of the product of squared Frobenius norms)", "weight matrices", false, LayerWise, Weights,
            c => Norms.LogProduct(Norms.SquaredFrobenius(c.Model))),
        M("log-sum-frobenius", "log(L·(Π_l ‖W_l‖_F²)^{1/L})", "weight matrices", false, LayerWise, Weights,
            c => Norms.LogSum(Norms.SquaredFrobenius(c.Model))),
        M("log-prod-frobenius-over-margin", "log(Π_l ‖W_l‖_F² / γ²)", "weight matrices, outputs", false, LayerWise, Forward,
            c => OverMargin(Norms.LogProduct(Norms.SquaredFrobenius(c.Model)), Gamma(c))),
        M("log-prod-spectral", "Σ_l log ‖W_l‖₂²  (conv kernels read as out × in·kh·kw)", "weight matrices", false, LayerWise, Weights,
            c => Norms.LogProduct(Norms.SquaredSpectral(c.Model))),
        M("log-sum-spectral", "log(L·(Π_l ‖W_l‖₂²)^{1/L})", "weight matrices", false, LayerWise, Weights,
            c => Norms.LogSum(Norms.SquaredSpectral(c.Model))),
        M("log-prod-spectral-over-margin", "log(Π_l ‖W_l‖₂² / γ²)", "weight matrices, outputs", false, LayerWise, Forward,
            c => OverMargin(Norms.LogProduct(Norms.SquaredSpectral(c.Model)), Gamma(c))),
        M("frobenius-distance", "Σ_l ‖W_l − W_l⁰‖_F²  (distance from the initial weights)", "weight matrices, initial weights", true, None, Weights,
            c => Norms.DistanceFromInit(c, spectral: false)),
        M("spectral-distance", "Σ_l ‖W_l − W_l⁰‖₂²", "weight matrices, initial weights", true, None, Weights,
            c => Norms.DistanceFromInit(c, spectral: true)),
        M("parameter-norm", "‖θ‖² over all parameters", "all parameters", false, None, Weights,
            c => Norms.ParameterNorm(c, fromInit: false)),
        M("parameter-distance", "‖θ − θ⁰‖² over all parameters", "all parameters, initial weights", true, None, Weights,
            c => Norms.ParameterNorm(c, fromInit: true)),
        M("path-norm", "Σ over input/bias-to-output paths of Π w² (forward pass of squared weights on all-ones input)", "all parameters", false, NeuronWise, Forward,
            c => PathNorm.Compute(c.Model, c.Data.ExampleShape)),
        M("fisher-rao", "(1/N) Σ_n ⟨θ, ∇_θ ℓ_n⟩²  (empirical Fisher–Rao norm)", "all parameters", false, NeuronWise, Gradient,
            c => FisherRao.Compute(c.Model, c.Data, c.Options.ChunkSize)),
        M("pac-bayes-flatness", "1/σ², σ = largest N(0,σ²I) weight-noise scale with training-accuracy drop ≤ 0.1", "all parameters", false, None, Search,
            c => 1 / Math.Pow(PacBayesFlatness.Search(c.Model, c.Data, magnitudeAware: false, c.Options, c.CancellationToken).Sigma, 2)),
        M("pac-bayes-mag-flatness", "1/σ², magnitude-aware: noise N(0, σ²θ_i²) per weight, drop ≤ 0.1", "all parameters", false, NeuronWise, Search,
            c => 1 / Math.Pow(PacBayesFlatness.Search(c.Model, c.Data, magnitudeAware: true, c.Options, c.CancellationToken).Sigma, 2)),
        M("sharpness", "largest training-loss increase within ‖Δ‖₂ ≤ α = 0.05 (projected gradient ascent)", "all parameters", false, None, Search,
            c => { using var d = ModelParts.Head(c.Data, c.Options.SharpnessSamples); return WorstCaseSharpness.LossIncrease(c.Model, d, c.Options.SharpnessRadius, c.Options.AscentSteps, c.Options.Seed, c.Options.ChunkSize, c.CancellationToken); }),
        M("sharpness-radius", "1/α², α = radius at which the ascent raises the training loss by 0.1", "all parameters", false, None, Search,
            c => { using var d = ModelParts.Head(c.Data, c.Options.SharpnessSamples); return 1 / Math.Pow(WorstCaseSharpness.RadiusAt(c.Model, d, c.Options.SharpnessLossTarget, c.Options.AscentSteps, c.Options.SharpnessBisectionSteps, c.Options.Seed, c.Options.ChunkSize, c.CancellationToken).Radius, 2); }),
        M("hessian-trace", "Tr(H), H the Hessian of the training loss by all parameters (Hutchinson)", "all parameters", false, None, Curvature,
            c => CurvatureMeasures.Trace(c, headOnly: false)),
        M("hessian-trace-head", "Tr(H) by the head's weight and bias (Hutchinson)", "head", false, None, Curvature,
            c => CurvatureMeasures.Trace(c, headOnly: true)),
        M("lambda-max", "largest Hessian eigenvalue, all parameters (Lanczos)", "all parameters", false, None, Curvature,
            c => CurvatureMeasures.LambdaMax(c, headOnly: false)),
        M("lambda-max-head", "largest Hessian eigenvalue by the head's weight and bias (Lanczos)", "head", false, None, Curvature,
            c => CurvatureMeasures.LambdaMax(c, headOnly: true)),
        M("relative-flatness", "κ_Tr = Σ_{s,t}⟨W_s,W_t⟩Tr(H_{s,t}) of the head (closed form)", "head, features", false, LayerWise, Forward,
            c => CurvatureMeasures.RelativeFlatnessOfHead(c, normalizeFeatures: false)),
        M("relative-flatness-normalized", "κ_Tr of the head with features normalized to unit standard deviation", "head, features", false, NeuronWise, Forward,
            c => CurvatureMeasures.RelativeFlatnessOfHead(c, normalizeFeatures: true)),
        M("gradient-noise", "Tr Cov of per-example gradients = mean ‖g_n‖² − ‖ḡ‖²", "all parameters", false, None, Gradient,
            c => { using var d = ModelParts.Head(c.Data, c.Options.GradientSamples); return GradientStatistics.Compute(c.Model, d, c.Options.CoherenceGroup, c.CancellationToken).Noise; }),
        M("m-coherence", "‖Σ_G g_n‖² / Σ_G ‖g_n‖² over groups G of m = 64 examples", "all parameters", false, None, Gradient,
            c => { using var d = ModelParts.Head(c.Data, c.Options.GradientSamples); return GradientStatistics.Compute(c.Model, d, c.Options.CoherenceGroup, c.CancellationToken).MCoherence; }),
        M("steps-to-loss", "updates until the training loss first reached the target (from the run's metrics)", "training curve", false, NeuronWise, Weights,
            c => OptimizationSpeed.StepsToLoss(c.Curve, c.Options.StepsTargetLoss)),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToArray();

    public static Measure Get(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new BasinException($"unknown measure '{name}' (see 'basin measures'; known: {string.Join(", ", Names)})");

    /// <summary>Measures named in a list ("all", or names separated by commas); duplicates are dropped, the order kept.</summary>
    public static IReadOnlyList<Measure> Select(IEnumerable<string> names)
    {
        var list = names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (list.Count == 0) throw new BasinException("no measures named (use 'all' or names from 'basin measures')");
        if (list.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase))) return All;
        return list.Select(Get).DistinctBy(m => m.Name).ToArray();
    }
}
