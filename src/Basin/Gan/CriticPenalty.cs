using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The Lipschitz regularizers of WGAN critics: the gradient penalty (GP), the Lipschitz penalty (LP),
/// the penalty points x̂ they are evaluated at, and weight clipping.
/// </summary>
public static class CriticPenalty
{
    /// <summary>
    /// ‖∇ₓ f(x̂)‖₂ per sample, shape [N], with the graph kept (create_graph) so that a penalty built on it can be
    /// differentiated with respect to the critic's parameters (double backward).
    /// </summary>
    /// <param name="critic">Maps [N, ...] samples to scores [N] (or [N, 1]).</param>
    /// <param name="points">Penalty points x̂ [N, ...]; they are detached and made to require gradients here.</param>
    public static Tensor GradientNorms(Func<Tensor, Tensor> critic, Tensor points)
    {
        ArgumentNullException.ThrowIfNull(critic);
        if (points.dim() < 2 || points.shape[0] < 1)
            throw new BasinException($"penalty points must be [N,...] with N ≥ 1, got [{string.Join(",", points.shape)}]");
        if (!torch.is_floating_point(points))
            throw new BasinException($"penalty points must be floating point, got {points.dtype}");

        using var scope = torch.NewDisposeScope();
        var xHat = points.detach().clone().requires_grad_(true);
        var scores = critic(xHat);
        // libtorch errors inside autograd.grad abort the process, so everything it needs is checked first.
        long n = points.shape[0];
        bool shapeOk = (scores.dim() == 1 && scores.shape[0] == n) || (scores.dim() == 2 && scores.shape[0] == n && scores.shape[1] == 1);
        if (!shapeOk)
            throw new BasinException($"critic must return one score per sample ([{n}] or [{n},1]), got [{string.Join(",", scores.shape)}]");
        if (!torch.is_floating_point(scores) || !scores.requires_grad)
            throw new BasinException("critic scores do not depend differentiably on the penalty points");
        var gradients = torch.autograd.grad(new[] { scores.sum() }, new[] { xHat }, create_graph: true, retain_graph: true,
            allow_unused: true)[0];
        if (!IsDefined(gradients))
            throw new BasinException("critic scores do not depend on the penalty points");
        return gradients.flatten(1).norm(1, false, 2f).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The penalty P averaged over the points: GP (‖g‖ − 1)², LP max(0, ‖g‖ − 1)². Weight clipping has no penalty term.
    /// </summary>
    public static Tensor FromGradientNorms(LipschitzRegularization kind, Tensor gradientNorms) => kind switch
    {
        LipschitzRegularization.GradientPenalty => gradientNorms.sub(Scalars.One).pow(Scalars.Two).mean(),
        LipschitzRegularization.LipschitzPenalty => nn.functional.relu(gradientNorms.sub(Scalars.One)).pow(Scalars.Two).mean(),
        _ => throw new BasinException($"{kind} has no penalty term"),
    };

    /// <summary>The penalty P of <paramref name="kind"/> for <paramref name="critic"/> at <paramref name="points"/> (a scalar with
    /// graph).</summary>
    public static Tensor Compute(LipschitzRegularization kind, Func<Tensor, Tensor> critic, Tensor points)
    {
        using var norms = GradientNorms(critic, points);
        return FromGradientNorms(kind, norms);
    }

    /// <summary>
    /// Penalty points: for <see cref="PenaltySampling.Interpolates"/>, x̂ = t·real + (1 − t)·fake with one t ~ U[0, 1] per
    /// sample; for <see cref="PenaltySampling.RealPerturbations"/>, x̂ = real + σ·ε with ε ~ N(0, I).
    /// </summary>
    public static Tensor SamplePoints(PenaltySampling sampling, Tensor real, Tensor fake, double perturbationScale,
        torch.Generator? random = null)
    {
        if (!real.shape.SequenceEqual(fake.shape))
            throw new BasinException($"real and fake batches differ in shape: [{string.Join(",", real.shape)}] vs " +
                $"[{string.Join(",", fake.shape)}]");
        using var scope = torch.NewDisposeScope();
        Tensor points;
        if (sampling == PenaltySampling.Interpolates)
        {
            var tShape = new long[real.dim()];
            Array.Fill(tShape, 1L);
            tShape[0] = real.shape[0];
            var t = torch.rand(tShape, real.dtype, generator: random);
            points = t.mul(real.detach()).add(t.neg().add_(Scalars.One, Scalars.One).mul(fake.detach()), Scalars.One);
        }
        else
        {
            using var scale = perturbationScale.ToScalar();
            points = real.detach().add(torch.randn(real.shape, real.dtype, generator: random).mul(scale), Scalars.One);
        }
        return points.MoveToOuterDisposeScope();
    }

    /// <summary>Clamps every parameter of <paramref name="critic"/> to [−c, c] in place (the original WGAN's constraint).</summary>
    public static void ClipWeights(nn.Module critic, double c)
    {
        if (!(c > 0) || !double.IsFinite(c)) throw new BasinException($"clip value must be a finite number > 0, got {c}");
        using var noGrad = torch.no_grad();
        using var low = (-c).ToScalar();
        using var high = c.ToScalar();
        foreach (var p in critic.parameters()) p.clamp_(low, high);
    }

    static bool IsDefined(Tensor t)
    {
        try { _ = t.shape; return true; }
        catch (InvalidOperationException) { return false; }
    }
}
