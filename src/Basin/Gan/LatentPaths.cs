using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// Settings for optimizing a latent path. <paramref name="Steps"/> is T, the number of segments: a path has T + 1
/// points z_0 … z_T, of which z_1 … z_{T−1} move. Adam (β = (0.9, 0.999), ε = 1e-8) with a cosine decay of the
/// learning rate to 0 over the iterations, because Adam's normalized steps would otherwise keep the path jittering
/// at the learning rate's scale around the optimum. The lowest-energy path seen is returned.
/// </summary>
public sealed record GeodesicConfig(int Steps = 16, int Iterations = 500, double LearningRate = 1e-2, int ProgressInterval = 50)
{
    public int Steps { get; init; } = Steps >= 1 ? Steps : throw new BasinException($"latent path needs at least 1 step, got {Steps}");
    public int Iterations { get; init; } = Iterations >= 0 ? Iterations
        : throw new BasinException($"geodesic iterations must be ≥ 0, got {Iterations}");
    public double LearningRate { get; init; } = LearningRate > 0 && double.IsFinite(LearningRate) ? LearningRate
        : throw new BasinException($"geodesic learning rate must be a finite number > 0, got {LearningRate}");
    public int ProgressInterval { get; init; } = ProgressInterval >= 1 ? ProgressInterval
        : throw new BasinException($"progress interval must be at least 1, got {ProgressInterval}");
}

public sealed record GeodesicProgress(int Iteration, int TotalIterations, double Energy);

/// <summary>An optimized path [T + 1, d] (owned by the caller) with its energy before and after.</summary>
public sealed record GeodesicResult(Tensor Path, double InitialEnergy, double FinalEnergy, int Iterations);

/// <summary>
/// How a latent path looks in sample space: <paramref name="Length"/> = Σ_t ‖G(z_{t+1}) − G(z_t)‖,
/// <paramref name="Energy"/> = Σ_t ‖G(z_{t+1}) − G(z_t)‖², the critic's score of G(z_t) along the path (min and mean),
/// and, when a classifier is given, its confidence max_k softmax(logits)_k along the path (min and mean).
/// </summary>
public sealed record PathScores(double Length, double Energy, double CriticMin, double CriticMean, double? ConfidenceMin,
    double? ConfidenceMean);

/// <summary>
/// Interpolation between two latent codes: linear, spherical (slerp), the geodesic of the generator's pull-back
/// metric, and Basin's realism-weighted geodesic whose metric is scaled by a <see cref="RealismWeight"/> (the authors'
/// own discriminator-aware geodesic is <see cref="PaperGeodesic"/>).
/// Paths are tensors [T + 1, d] whose first and last rows are exactly z0 and z1. Generators and critics are
/// functions on batches: G maps [B, d] to samples [B, ...], D maps samples to scores [B] (or [B, 1]); latent codes
/// must have the generator's dtype.
/// </summary>
public static class LatentPaths
{
    /// <summary>z_t = (1 − t)·z0 + t·z1 at t = k/T.</summary>
    public static Tensor Linear(Tensor z0, Tensor z1, int steps)
    {
        CheckEndpoints(z0, z1, steps);
        var t = Fractions(steps, z0.dtype);
        return WithExactEnds(Combine(t.neg().add_(Scalars.One, Scalars.One), z0, t, z1), z0, z1);
    }

    /// <summary>
    /// Spherical interpolation z_t = sin((1 − t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1, Ω the angle between z0 and z1:
    /// the path follows the great circle (scaled arc), so with ‖z0‖ = ‖z1‖ = r every point has norm r, which keeps
    /// Gaussian latent codes at a typical radius. For (anti)parallel codes (sin Ω below 1e-9) the arc is not unique
    /// and the linear path is returned.
    /// </summary>
    public static Tensor Spherical(Tensor z0, Tensor z1, int steps)
    {
        CheckEndpoints(z0, z1, steps);
        using var scope = torch.NewDisposeScope();
        using var a64 = z0.to(ScalarType.Float64);
        using var b64 = z1.to(ScalarType.Float64);
        double na = a64.norm().item<double>(), nb = b64.norm().item<double>();
        double cos = na == 0 || nb == 0 ? 1 : Math.Clamp(torch.dot(a64, b64).item<double>() / (na * nb), -1, 1);
        double omega = Math.Acos(cos), sin = Math.Sin(omega);
        if (sin < 1e-9) return Linear(z0, z1, steps).MoveToOuterDisposeScope();
        var ca = new double[steps + 1];
        var cb = new double[steps + 1];
        for (int k = 0; k <= steps; k++)
        {
            double t = (double)k / steps;
            ca[k] = Math.Sin((1 - t) * omega) / sin;
            cb[k] = Math.Sin(t * omega) / sin;
        }
        var path = Combine(torch.tensor(ca), a64, torch.tensor(cb), b64).to(z0.dtype);
        return WithExactEnds(path, z0, z1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The discrete energy Σ_t w_t ‖G(z_{t+1}) − G(z_t)‖² of a path, with w_t = 1 (pull-back metric) or, given a critic
    /// and a weight, w_t = h(D(G(z_t))) (realism-weighted metric).
    /// </summary>
    public static double Energy(Func<Tensor, Tensor> generator, Tensor path, Func<Tensor, Tensor>? critic = null,
        RealismWeight? weight = null)
    {
        CheckPath(path);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return EnergyTensor(generator, path, critic, weight).to(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// The geodesic of the generator's pull-back metric: minimizes Σ_t ‖G(z_{t+1}) − G(z_t)‖² over z_1 … z_{T−1},
    /// endpoints fixed, starting from <paramref name="initial"/> (default: the straight line).
    /// </summary>
    public static GeodesicResult Geodesic(Func<Tensor, Tensor> generator, Tensor z0, Tensor z1, GeodesicConfig config,
        Tensor? initial = null, IProgress<GeodesicProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Optimize(generator, null, null, z0, z1, config, initial, progress, cancellationToken);

    /// <summary>
    /// Basin's realism-weighted geodesic: minimizes Σ_t h(D(G(z_t))) ‖G(z_{t+1}) − G(z_t)‖², so the path avoids regions
    /// where generated samples look fake to the critic (see <see cref="RealismWeight"/> for h).
    /// </summary>
    public static GeodesicResult RealismWeightedGeodesic(Func<Tensor, Tensor> generator, Func<Tensor, Tensor> critic, RealismWeight weight,
        Tensor z0, Tensor z1, GeodesicConfig config, Tensor? initial = null, IProgress<GeodesicProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(critic);
        ArgumentNullException.ThrowIfNull(weight);
        return Optimize(generator, critic, weight, z0, z1, config, initial, progress, cancellationToken);
    }

    /// <summary>Length, energy, critic scores and (optionally) classifier confidence along a path.</summary>
    public static PathScores Score(Func<Tensor, Tensor> generator, Tensor path, Func<Tensor, Tensor> critic,
        Func<Tensor, Tensor>? classifier = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(critic);
        CheckPath(path);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var samples = generator(path);
        var flat = samples.flatten(1).to(ScalarType.Float64);
        var segments = (flat.slice(0, 1, flat.shape[0], 1) - flat.slice(0, 0, flat.shape[0] - 1, 1)).pow(Scalars.Two).sum(new long[] { 1 });
        // float32 critics are common; the summary statistics are read as doubles.
        var scores = Scores(critic, samples).to(ScalarType.Float64);
        double? confidenceMin = null, confidenceMean = null;
        if (classifier is not null)
        {
            var logits = classifier(samples);
            if (logits.dim() != 2 || logits.shape[0] != path.shape[0])
                throw new BasinException($"classifier must return logits [{path.shape[0]},K], got [{string.Join(",", logits.shape)}]");
            var confidence = torch.softmax(logits.to(ScalarType.Float64), 1).max(1).values;
            confidenceMin = confidence.min().item<double>();
            confidenceMean = confidence.mean().item<double>();
        }
        return new PathScores(segments.sqrt().sum().item<double>(), segments.sum().item<double>(),
            scores.min().item<double>(), scores.mean().item<double>(), confidenceMin, confidenceMean);
    }

    static GeodesicResult Optimize(Func<Tensor, Tensor> generator, Func<Tensor, Tensor>? critic, RealismWeight? weight,
        Tensor z0, Tensor z1, GeodesicConfig config, Tensor? initial, IProgress<GeodesicProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(config);
        CheckEndpoints(z0, z1, config.Steps);
        int steps = config.Steps;
        Tensor start;
        if (initial is null) start = Linear(z0, z1, steps);
        else
        {
            if (!initial.shape.SequenceEqual(new[] { steps + 1L, z0.shape[0] }) || initial.dtype != z0.dtype)
                throw new BasinException($"initial path must be [{steps + 1},{z0.shape[0]}] {z0.dtype}, got " +
                    $"[{string.Join(",", initial.shape)}] {initial.dtype}");
            start = WithExactEnds(initial.detach().clone(), z0, z1);
        }
        double initialEnergy = Energy(generator, start, critic, weight);
        if (steps == 1 || config.Iterations == 0) return new GeodesicResult(start, initialEnergy, initialEnergy, 0);

        using var outer = torch.NewDisposeScope();
        var interior = start.slice(0, 1, steps, 1).detach().clone();
        start.Dispose();
        var m = torch.zeros_like(interior);
        var v = torch.zeros_like(interior);
        var best = interior.clone();
        double bestEnergy = double.PositiveInfinity;
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var first = z0.detach().unsqueeze(0);
        var last = z1.detach().unsqueeze(0);

        for (int iteration = 0; iteration <= config.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var moving = interior.detach().requires_grad_(true);
            var path = torch.cat(new[] { first, moving, last }, 0);
            var energy = EnergyTensor(generator, path, critic, weight);
            double value = energy.to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value)) throw new DivergenceException($"latent path energy became {value} at iteration {iteration}");
            if (value < bestEnergy)
            {
                bestEnergy = value;
                best.copy_(interior);
            }
            if (iteration % config.ProgressInterval == 0 || iteration == config.Iterations)
                progress?.Report(new GeodesicProgress(iteration, config.Iterations, value));
            if (iteration == config.Iterations) break;

            // autograd.grad (not backward) so that no gradient accumulates on the generator's or critic's parameters.
            if (!energy.requires_grad) throw new BasinException("the path energy does not depend differentiably on the latent codes");
            var gradient = torch.autograd.grad(new[] { energy }, new[] { moving }, allow_unused: true)[0];
            if (!IsDefined(gradient)) throw new BasinException("the generator's output does not depend on the latent codes");
            using (torch.no_grad())
            {
                int t = iteration + 1;
                double lr = config.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * iteration / config.Iterations));
                using (var b1 = beta1.ToScalar()) using (var oneMinusB1 = (1 - beta1).ToScalar()) m.mul_(b1).add_(gradient,
                    alpha: oneMinusB1);
                using (var b2 = beta2.ToScalar()) using (var oneMinusB2 = (1 - beta2).ToScalar()) v.mul_(b2).addcmul_(gradient, gradient,
                    value: oneMinusB2);
                using var correction1 = (1 - Math.Pow(beta1, t)).ToScalar();
                using var correction2 = (1 - Math.Pow(beta2, t)).ToScalar();
                using var rate = lr.ToScalar();
                using var epsilon = eps.ToScalar();
                var mHat = m.div(correction1);
                var vHat = v.div(correction2);
                interior.sub_(mHat.mul(rate).div(vHat.sqrt().add(epsilon, Scalars.One)));
            }
        }
        var result = torch.cat(new[] { first, best, last }, 0);
        var exact = WithExactEnds(result, z0, z1).MoveToOuterDisposeScope();
        return new GeodesicResult(exact, initialEnergy, bestEnergy, config.Iterations);
    }

    static Tensor EnergyTensor(Func<Tensor, Tensor> generator, Tensor path, Func<Tensor, Tensor>? critic, RealismWeight? weight)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var samples = generator(path);
        if (samples.dim() < 2 || samples.shape[0] != path.shape[0])
            throw new BasinException($"generator must map [{path.shape[0]},d] codes to [{path.shape[0]},...] samples, got " +
                $"[{string.Join(",", samples.shape)}]");
        var flat = samples.flatten(1);
        long n = flat.shape[0];
        var segments = (flat.slice(0, 1, n, 1) - flat.slice(0, 0, n - 1, 1)).pow(Scalars.Two).sum(new long[] { 1 });
        if (critic is null || weight is null) return segments.sum();
        var h = weight.Apply(Scores(critic, samples).slice(0, 0, n - 1, 1));
        return (h.to(segments.dtype) * segments).sum();
    }

    static Tensor Scores(Func<Tensor, Tensor> critic, Tensor samples)
    {
        var scores = critic(samples);
        long n = samples.shape[0];
        if (!((scores.dim() == 1 && scores.shape[0] == n) || (scores.dim() == 2 && scores.shape[0] == n && scores.shape[1] == 1)))
            throw new BasinException($"critic must return one score per sample ([{n}] or [{n},1]), got [{string.Join(",", scores.shape)}]");
        return scores.flatten();
    }

    static Tensor Fractions(int steps, ScalarType dtype) =>
        torch.tensor(Enumerable.Range(0, steps + 1).Select(k => (double)k / steps).ToArray()).to(dtype);

    static Tensor Combine(Tensor ca, Tensor a, Tensor cb, Tensor b) =>
        (ca.unsqueeze(1) * a.unsqueeze(0)).add(cb.unsqueeze(1) * b.unsqueeze(0), Scalars.One);

    static Tensor WithExactEnds(Tensor path, Tensor z0, Tensor z1)
    {
        using var noGrad = torch.no_grad();
        path[0].copy_(z0);
        path[path.shape[0] - 1].copy_(z1);
        return path;
    }

    static void CheckEndpoints(Tensor z0, Tensor z1, int steps)
    {
        if (steps < 1) throw new BasinException($"latent path needs at least 1 step, got {steps}");
        if (z0.dim() != 1 || !z0.shape.SequenceEqual(z1.shape))
            throw new BasinException($"latent endpoints must be vectors [d] of the same length, got [{string.Join(",", z0.shape)}] and " +
                $"[{string.Join(",", z1.shape)}]");
        if (!torch.is_floating_point(z0) || z0.dtype != z1.dtype)
            throw new BasinException($"latent endpoints must share a floating dtype, got {z0.dtype} and {z1.dtype}");
    }

    static void CheckPath(Tensor path)
    {
        if (path.dim() != 2 || path.shape[0] < 2)
            throw new BasinException($"a latent path must be [T+1,d] with T ≥ 1, got [{string.Join(",", path.shape)}]");
    }

    static bool IsDefined(Tensor t)
    {
        try { _ = t.shape; return true; }
        catch (InvalidOperationException) { return false; }
    }
}
