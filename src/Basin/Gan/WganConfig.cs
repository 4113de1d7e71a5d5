namespace Basin.Gan;

/// <summary>How the critic is kept (approximately) 1-Lipschitz.</summary>
public enum LipschitzRegularization
{
    /// <summary>WGAN (Arjovsky et al. 2017): clip every critic weight to [−c, c] after each critic step.</summary>
    WeightClipping,
    /// <summary>WGAN-GP (Gulrajani et al. 2017): P = E[(‖∇f(x̂)‖ − 1)²], two-sided.</summary>
    GradientPenalty,
    /// <summary>WGAN-LP (Petzka et al. 2018): P = E[(max(0, ‖∇f(x̂)‖ − 1))²], penalizes only norms above 1.</summary>
    LipschitzPenalty,
}

/// <summary>Where the penalty points x̂ come from.</summary>
public enum PenaltySampling
{
    /// <summary>x̂ = t·x_real + (1 − t)·x_fake with t ~ U[0, 1] per sample (the WGAN-GP choice).</summary>
    Interpolates,
    /// <summary>x̂ = x_real + σ·ε with ε ~ N(0, I) per coordinate and σ = <see cref="WganConfig.PerturbationScale"/>
    /// (local perturbations of real samples, offered in the WGAN-LP paper).</summary>
    RealPerturbations,
}

public enum GanOptimizer
{
    /// <summary>RMSProp (α = 0.99, ε = 1e-8), the WGAN paper's choice; default learning rate 5e-5.</summary>
    RmsProp,
    /// <summary>Adam with β = (0.5, 0.9) as in the WGAN-GP paper; default learning rate 1e-4.</summary>
    Adam,
}

/// <summary>
/// Settings of one WGAN training run. Defaults follow the WGAN-LP paper's toy experiments: λ = 10,
/// 5 critic steps per generator step (100 for the first 25 generator iterations), batch 256, RMSProp 5e-5.
/// </summary>
/// <param name="Regularization">Clipping, GP or LP.</param>
/// <param name="Lambda">Penalty weight λ (ignored for clipping).</param>
/// <param name="ClipValue">c for weight clipping: weights are clamped to [−c, c].</param>
/// <param name="Sampling">Where penalty points are drawn.</param>
/// <param name="PerturbationScale">σ of the Gaussian noise for <see cref="PenaltySampling.RealPerturbations"/>, in data
/// units (absolute, not relative to the data's spread; 0.1 suits the toy sets (radius ≈ 2) and images in [0, 1]).</param>
/// <param name="GeneratorIterations">Number of generator updates.</param>
/// <param name="CriticSteps">Critic updates per generator update.</param>
/// <param name="WarmupCriticSteps">Critic updates per generator update during the warm-up.</param>
/// <param name="WarmupIterations">Generator iterations that use <see cref="WarmupCriticSteps"/> (0 disables the warm-up).</param>
/// <param name="BatchSize">Real and fake samples per critic step (and fake samples per generator step).</param>
/// <param name="Optimizer">RMSProp or Adam, for both networks.</param>
/// <param name="LearningRate">Overrides the optimizer's default learning rate.</param>
/// <param name="Seed">Seeds the minibatches, latent codes and penalty points.</param>
/// <param name="CheckpointDirectory">Where checkpoints go (null: none are written).</param>
/// <param name="CheckpointInterval">Write a checkpoint every this many generator iterations, and after the last (0: only after the
/// last).</param>
/// <param name="ProgressInterval">Report (and record in the history) every this many generator iterations, and the last.</param>
/// <param name="EvaluationInterval">Measure the exact W1 (<see cref="ExactWasserstein.GeneratorDistance"/>) every this many generator
/// iterations, and after the last (0: never). The same latent codes and real subset are used every time (seeded by
/// <paramref name="Seed"/>), so the curve shows the generator's change, not resampling noise.</param>
/// <param name="EvaluationCount">Generated and real points of each W1 measurement (the WGAN-LP paper uses 512).</param>
/// <param name="StartIteration">Generator iterations already done (resuming from a checkpoint): training runs
/// iterations StartIteration + 1 … GeneratorIterations.</param>
public sealed record WganConfig(
    LipschitzRegularization Regularization = LipschitzRegularization.LipschitzPenalty,
    double Lambda = 10,
    double ClipValue = 0.01,
    PenaltySampling Sampling = PenaltySampling.Interpolates,
    double PerturbationScale = 0.1,
    int GeneratorIterations = 10_000,
    int CriticSteps = 5,
    int WarmupCriticSteps = 100,
    int WarmupIterations = 25,
    int BatchSize = 256,
    GanOptimizer Optimizer = GanOptimizer.RmsProp,
    double? LearningRate = null,
    long Seed = 0,
    string? CheckpointDirectory = null,
    int CheckpointInterval = 0,
    int ProgressInterval = 10,
    int EvaluationInterval = 0,
    int EvaluationCount = 512,
    int StartIteration = 0)
{
    public double EffectiveLearningRate => LearningRate ?? (Optimizer == GanOptimizer.Adam ? 1e-4 : 5e-5);

    /// <summary>Critic steps before generator iteration <paramref name="iteration"/> (1-based).</summary>
    public int CriticStepsAt(int iteration) => iteration <= WarmupIterations ? WarmupCriticSteps : CriticSteps;

    /// <summary>Throws a <see cref="BasinException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new BasinException(message); }
        Require(double.IsFinite(Lambda) && Lambda >= 0, $"wgan: lambda must be a finite number ≥ 0, got {Lambda}");
        Require(double.IsFinite(ClipValue) && ClipValue > 0, $"wgan: clip value must be a finite number > 0, got {ClipValue}");
        Require(double.IsFinite(PerturbationScale) && PerturbationScale > 0, "wgan: perturbation scale must be a finite number > 0, " +
            $"got {PerturbationScale}");
        Require(GeneratorIterations >= 1, $"wgan: generator iterations must be at least 1, got {GeneratorIterations}");
        Require(CriticSteps >= 1, $"wgan: critic steps must be at least 1, got {CriticSteps}");
        Require(WarmupCriticSteps >= 1, $"wgan: warm-up critic steps must be at least 1, got {WarmupCriticSteps}");
        Require(WarmupIterations >= 0, $"wgan: warm-up iterations must be ≥ 0, got {WarmupIterations}");
        Require(BatchSize >= 1, $"wgan: batch size must be at least 1, got {BatchSize}");
        Require(LearningRate is null || (double.IsFinite(LearningRate.Value) && LearningRate > 0), "wgan: learning rate must be a finite " +
            $"number > 0, got {LearningRate}");
        Require(CheckpointInterval >= 0, $"wgan: checkpoint interval must be ≥ 0, got {CheckpointInterval}");
        Require(ProgressInterval >= 1, $"wgan: progress interval must be at least 1, got {ProgressInterval}");
        Require(EvaluationInterval >= 0, $"wgan: evaluation interval must be ≥ 0, got {EvaluationInterval}");
        Require(EvaluationCount >= 1, $"wgan: evaluation count must be at least 1, got {EvaluationCount}");
        Require(StartIteration >= 0 && StartIteration < GeneratorIterations, "wgan: start iteration must be in [0, " +
            $"{GeneratorIterations}), got {StartIteration}");
    }
}
