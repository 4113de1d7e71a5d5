using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// Settings of the polynomial latent paths of "Discriminating Against Unrealistic Interpolations in GANs" as its authors'
/// code computes them. The path z(t) = z0 + t(z1 − z0) + Σ_{k=2}^{K} c_k (t^k − t), K = <paramref name="Degree"/>, has
/// fixed end points and learned coefficients c_k (started at 0, the straight line, or uniform in ±<paramref name="InitialScale"/>
/// with <paramref name="Seed"/>); it is evaluated at t_i = i/T, i = 0..T, T = <paramref name="Steps"/>. Adam with constant
/// rate and β = (<paramref name="Beta1"/>, <paramref name="Beta2"/>) as in the authors' code; the last iterate is returned.
/// The out-of-domain penalty <paramref name="OutOfDomainWeight"/>·Σ(exp(max(|z_j| − b, 0)) − 1) over every point and
/// coordinate uses b = <paramref name="LatentBound"/> (the authors' b = 1 suits their uniform latents on [−1, 1]; Basin's
/// latents are N(0, I), hence 3 by default); weight 0 turns it off.
/// </summary>
public sealed record PolynomialPathConfig(int Steps = 16, int Degree = 6, int Iterations = 200, double LearningRate = 1e-2,
    double Beta1 = 0.5, double Beta2 = 0.9, double LatentBound = 3, double OutOfDomainWeight = 1, double InitialScale = 0, long Seed = 0,
    int ProgressInterval = 50)
{
    public int Steps { get; init; } = Steps >= 2 ? Steps
        : throw new BasinException($"a polynomial path needs at least 2 steps, got {Steps}");
    public int Degree { get; init; } = Degree >= 2 ? Degree
        : throw new BasinException($"the path's degree must be at least 2 (degree 1 is the straight line), got {Degree}");
    public int Iterations { get; init; } = Iterations >= 0 ? Iterations
        : throw new BasinException($"geodesic iterations must be ≥ 0, got {Iterations}");
    public double LearningRate { get; init; } = LearningRate > 0 && double.IsFinite(LearningRate) ? LearningRate
        : throw new BasinException($"geodesic learning rate must be a finite number > 0, got {LearningRate}");
    public double Beta1 { get; init; } = Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1 ? Beta1
        : throw new BasinException($"Adam's β must lie in [0, 1), got ({Beta1}, {Beta2})");
    public double LatentBound { get; init; } = LatentBound >= 0 && double.IsFinite(LatentBound) ? LatentBound
        : throw new BasinException($"--latent-bound must be a finite number ≥ 0, got {LatentBound}");
    public double OutOfDomainWeight { get; init; } = OutOfDomainWeight >= 0 && double.IsFinite(OutOfDomainWeight) ? OutOfDomainWeight
        : throw new BasinException($"--ood-weight must be a finite number ≥ 0, got {OutOfDomainWeight}");
    public double InitialScale { get; init; } = InitialScale >= 0 && double.IsFinite(InitialScale) ? InitialScale
        : throw new BasinException($"the initial coefficient scale must be a finite number ≥ 0, got {InitialScale}");
    public int ProgressInterval { get; init; } = ProgressInterval >= 1 ? ProgressInterval
        : throw new BasinException($"progress interval must be at least 1, got {ProgressInterval}");
}

/// <summary>
/// The discriminator-aware geodesic of "Discriminating Against Unrealistic Interpolations in GANs" as the authors compute it
/// (their public code, swiss-roll experiment): minimize Σ_i ‖G(z_{i+1}) − G(z_i)‖² / d_i² over polynomial paths
/// (<see cref="PolynomialPathConfig"/>), with d_i = clip(√(D_i·D_{i+1}) + 0.01, 0.01, 0.41) and D_i the discriminator's
/// probability of G(z_i), plus the latent out-of-domain penalty. Segments between samples the discriminator believes
/// (D ≥ 0.4) cost their plain squared length divided by 0.41²; segments between fakes cost up to 1/0.01² times more.
/// The "Jacobian" baseline is the same objective without the denominator (the pull-back energy on the same paths).
/// Differences from the authors' code: the points are t = i/T, so the last one is z1 (theirs stop at T/(T+1)); the critic's
/// scores are mapped to probabilities by <see cref="CriticProbability"/>.
/// </summary>
public static class PaperGeodesic
{
    /// <summary>ε of d_i = clip(√(D_i D_{i+1}) + ε, ε, <see cref="Ceiling"/> + ε).</summary>
    public const double Epsilon = 0.01;
    /// <summary>Geometric means of D at or above this count as real: the denominator stops growing there.</summary>
    public const double Ceiling = 0.4;

    /// <summary>d_i for consecutive points from log D along a path [T + 1] → [T].</summary>
    public static Tensor Denominator(Tensor logProbabilities)
    {
        long n = logProbabilities.shape[0];
        using var scope = NewDisposeScope();
        using var half = 0.5.ToScalar();
        using var eps = Epsilon.ToScalar();
        using var top = (Ceiling + Epsilon).ToScalar();
        var mean = logProbabilities.slice(0, 1, n, 1).add(logProbabilities.slice(0, 0, n - 1, 1), Scalars.One).mul(half).exp();
        return mean.add(eps, Scalars.One).clamp(eps, top).MoveToOuterDisposeScope();
    }

    /// <summary>The path [T + 1, d] for coefficients [K − 1, d] (c_2 … c_K); rows 0 and T are exactly z0 and z1.</summary>
    public static Tensor Path(Tensor z0, Tensor z1, Tensor coefficients, int steps)
    {
        CheckEndpoints(z0, z1);
        if (steps < 1) throw new BasinException($"a latent path needs at least 1 step, got {steps}");
        if (coefficients.dim() != 2 || coefficients.shape[1] != z0.shape[0] || coefficients.dtype != z0.dtype)
            throw new BasinException($"coefficients must be [K−1,{z0.shape[0]}] {z0.dtype}, got " +
                $"[{string.Join(",", coefficients.shape)}] {coefficients.dtype}");
        using var scope = NewDisposeScope();
        var (t, basis) = Basis(steps, (int)coefficients.shape[0] + 1, z0.dtype);
        var line = t.unsqueeze(1).mul((z1 - z0).unsqueeze(0)).add(z0.unsqueeze(0), Scalars.One);
        var curve = line.add(basis.mm(coefficients), Scalars.One);
        var path = cat(new[] { z0.unsqueeze(0), curve.slice(0, 1, steps, 1), z1.unsqueeze(0) }, 0);
        return path.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The objective of a path: Σ_i ‖ΔG_i‖² / d_i² with a critic and its probability map, Σ_i ‖ΔG_i‖² without (the
    /// Jacobian baseline), plus the out-of-domain penalty of <paramref name="config"/>.
    /// </summary>
    public static double Objective(Func<Tensor, Tensor> generator, Tensor path, PolynomialPathConfig config,
        Func<Tensor, Tensor>? critic = null, CriticProbability? probability = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (path.dim() != 2 || path.shape[0] < 2)
            throw new BasinException($"a latent path must be [T+1,d] with T ≥ 1, got [{string.Join(",", path.shape)}]");
        if ((critic is null) != (probability is null)) throw new BasinException("give the critic together with its probability map");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return ObjectiveTensor(generator, path, config, critic, probability).to(ScalarType.Float64).item<double>();
    }

    /// <summary>The authors' discriminator-aware geodesic (see the class summary). A null critic is an error.</summary>
    public static GeodesicResult DiscriminatorAware(Func<Tensor, Tensor> generator, Func<Tensor, Tensor>? critic,
        CriticProbability? probability, Tensor z0, Tensor z1, PolynomialPathConfig config,
        IProgress<GeodesicProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (critic is null || probability is null)
            throw new BasinException("the paper's discriminator-aware geodesic needs a critic and its probability map (the 'jacobian' " +
                "method needs neither)");
        return Optimize(generator, critic, probability, z0, z1, config, progress, cancellationToken);
    }

    /// <summary>The authors' "Jacobian" baseline: the same polynomial paths and penalty, no denominator.</summary>
    public static GeodesicResult Jacobian(Func<Tensor, Tensor> generator, Tensor z0, Tensor z1, PolynomialPathConfig config,
        IProgress<GeodesicProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Optimize(generator, null, null, z0, z1, config, progress, cancellationToken);

    static GeodesicResult Optimize(Func<Tensor, Tensor> generator, Func<Tensor, Tensor>? critic, CriticProbability? probability,
        Tensor z0, Tensor z1, PolynomialPathConfig config, IProgress<GeodesicProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(config);
        CheckEndpoints(z0, z1);
        long d = z0.shape[0];
        using var outer = NewDisposeScope();
        var start = z0.detach();
        var end = z1.detach();
        Tensor coefficients;
        if (config.InitialScale == 0) coefficients = zeros(new long[] { config.Degree - 1, d }, dtype: z0.dtype);
        else
        {
            using var random = new torch.Generator(unchecked((ulong)config.Seed));
            using var low = (-config.InitialScale).ToScalar();
            using var width = (2 * config.InitialScale).ToScalar();
            coefficients = rand(new long[] { config.Degree - 1, d }, dtype: z0.dtype, generator: random).mul_(width).add_(low, Scalars.One);
        }
        var m = zeros_like(coefficients);
        var v = zeros_like(coefficients);
        using var beta1 = config.Beta1.ToScalar();
        using var beta2 = config.Beta2.ToScalar();
        using var oneMinusBeta1 = (1 - config.Beta1).ToScalar();
        using var oneMinusBeta2 = (1 - config.Beta2).ToScalar();
        using var epsilon = 1e-8.ToScalar();
        double initial = double.NaN, value = double.NaN;

        for (int iteration = 0; iteration <= config.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var moving = coefficients.detach().requires_grad_(true);
            var path = Path(start, end, moving, config.Steps);
            var objective = ObjectiveTensor(generator, path, config, critic, probability);
            value = objective.to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value))
                throw new DivergenceException($"the paper's path objective became {value} at iteration {iteration}");
            if (iteration == 0) initial = value;
            if (iteration % config.ProgressInterval == 0 || iteration == config.Iterations)
                progress?.Report(new GeodesicProgress(iteration, config.Iterations, value));
            if (iteration == config.Iterations) break;

            // autograd.grad (not backward): no gradient accumulates on the generator's or critic's parameters.
            if (!objective.requires_grad) throw new BasinException("the path objective does not depend differentiably on the latent codes");
            var gradient = autograd.grad(new[] { objective }, new[] { moving }, allow_unused: true)[0];
            if (!IsDefined(gradient)) throw new BasinException("the generator's output does not depend on the latent codes");
            using (no_grad())
            {
                int t = iteration + 1;
                using var correction1 = (1 - Math.Pow(config.Beta1, t)).ToScalar();
                using var correction2 = (1 - Math.Pow(config.Beta2, t)).ToScalar();
                using var rate = config.LearningRate.ToScalar();
                m.mul_(beta1).add_(gradient, oneMinusBeta1);
                v.mul_(beta2).addcmul_(gradient, gradient, oneMinusBeta2);
                var step = m.div(correction1).div(v.div(correction2).sqrt().add(epsilon, Scalars.One)).mul(rate);
                coefficients.sub_(step);
            }
        }
        var final = Path(start, end, coefficients, config.Steps).MoveToOuterDisposeScope();
        return new GeodesicResult(final, initial, value, config.Iterations);
    }

    static Tensor ObjectiveTensor(Func<Tensor, Tensor> generator, Tensor path, PolynomialPathConfig config,
        Func<Tensor, Tensor>? critic, CriticProbability? probability)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var samples = generator(path);
        long n = path.shape[0];
        if (samples.dim() < 2 || samples.shape[0] != n)
            throw new BasinException($"generator must map [{n},d] codes to [{n},...] samples, got [{string.Join(",", samples.shape)}]");
        var flat = samples.flatten(1);
        var segments = flat.slice(0, 1, n, 1).sub(flat.slice(0, 0, n - 1, 1)).pow(Scalars.Two).sum(new long[] { 1 });
        Tensor energy;
        if (critic is null || probability is null) energy = segments.sum();
        else
        {
            var scores = critic(samples);
            if (!((scores.dim() == 1 && scores.shape[0] == n) || (scores.dim() == 2 && scores.shape[0] == n && scores.shape[1] == 1)))
                throw new BasinException($"critic must return one score per sample ([{n}] or [{n},1]), got " +
                    $"[{string.Join(",", scores.shape)}]");
            var denominator = Denominator(probability.LogProbability(scores.flatten()).to(segments.dtype));
            energy = segments.div(denominator.pow(Scalars.Two)).sum();
        }
        if (config.OutOfDomainWeight == 0) return energy;
        using var bound = config.LatentBound.ToScalar();
        using var weight = config.OutOfDomainWeight.ToScalar();
        var penalty = nn.functional.relu(path.abs().sub(bound)).expm1().sum().to(energy.dtype);
        return energy.add(penalty.mul(weight), Scalars.One);
    }

    /// <summary>t_i = i/T as a column and the basis t_i^k − t_i for k = 2..K, [T + 1, K − 1].</summary>
    static (Tensor T, Tensor Basis) Basis(int steps, int degree, ScalarType dtype)
    {
        var t = new double[steps + 1];
        var basis = new double[(steps + 1) * (degree - 1)];
        for (int i = 0; i <= steps; i++)
        {
            t[i] = (double)i / steps;
            for (int k = 2; k <= degree; k++) basis[i * (degree - 1) + k - 2] = Math.Pow(t[i], k) - t[i];
        }
        return (tensor(t).to(dtype), tensor(basis, new long[] { steps + 1, degree - 1 }).to(dtype));
    }

    static void CheckEndpoints(Tensor z0, Tensor z1)
    {
        if (z0.dim() != 1 || !z0.shape.SequenceEqual(z1.shape))
            throw new BasinException($"latent endpoints must be vectors [d] of the same length, got [{string.Join(",", z0.shape)}] and " +
                $"[{string.Join(",", z1.shape)}]");
        if (!is_floating_point(z0) || z0.dtype != z1.dtype)
            throw new BasinException($"latent endpoints must share a floating dtype, got {z0.dtype} and {z1.dtype}");
    }

    static bool IsDefined(Tensor t)
    {
        try { _ = t.shape; return true; }
        catch (InvalidOperationException) { return false; }
    }
}
