using Basin.Data;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The factor h that scales the pull-back metric in the discriminator-aware geodesic. The paper ("Discriminating
/// Against Unrealistic Interpolations in GANs", 2022) was not available to us in full, so this is the intended
/// formulation, chosen by us: h(d) = 1 + β·softplus(−(d − D_ref)/s), with d the critic's score of a generated sample,
/// D_ref the mean critic score on real data and s a scale (by default the standard deviation of the real scores).
/// h is smooth, ≥ 1, close to 1 where samples score like or better than real data, and grows about linearly,
/// with slope β/s, as the score falls below D_ref, i.e. where samples look fake; β = 0 recovers the plain geodesic.
/// </summary>
public sealed record RealismWeight(double Reference, double Scale = 1, double Beta = 1)
{
    /// <summary>h(d) elementwise (differentiable).</summary>
    public Tensor Apply(Tensor scores)
    {
        Validate();
        using var reference = Reference.ToScalar();
        using var scale = Scale.ToScalar();
        using var beta = Beta.ToScalar();
        using var threshold = 20.ToScalar();
        using var scope = torch.NewDisposeScope();
        var z = scores.sub(reference).neg().div(scale);
        // softplus(z) as torch computes it (z above the threshold 20 is taken as is); the clamp keeps exp finite in
        // the branch not taken, so its gradient stays 0 rather than NaN.
        var softplus = torch.where(z.gt(threshold), z, z.clamp_max(threshold).exp().log1p());
        return softplus.mul(beta).add_(Scalars.One, Scalars.One).MoveToOuterDisposeScope();
    }

    public double Apply(double score) => 1 + Beta * Softplus(-(score - Reference) / Scale);

    /// <summary>D_ref = mean critic score on <paramref name="real"/>, s = their standard deviation (at least 1e-6).</summary>
    public static RealismWeight Calibrate(Func<Tensor, Tensor> critic, Tensor real, double beta = 1, int batchSize = 512)
    {
        ArgumentNullException.ThrowIfNull(critic);
        if (real.dim() < 2 || real.shape[0] < 2) throw new BasinException("realism calibration needs at least 2 real samples [N,...], " +
            $"got [{string.Join(",", real.shape)}]");
        if (batchSize < 1) throw new BasinException($"batch size must be at least 1, got {batchSize}");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var parts = new List<Tensor>();
        foreach (var (start, n) in Chunking.Ranges(real.shape[0], batchSize))
            parts.Add(critic(real.narrow(0, start, n)).flatten().to(ScalarType.Float64));
        var scores = torch.cat(parts, 0);
        if (scores.shape[0] != real.shape[0]) throw new BasinException("critic must return one score per sample, got " +
            $"{scores.shape[0]} for {real.shape[0]}");
        return new RealismWeight(scores.mean().item<double>(), Math.Max(scores.std().item<double>(), 1e-6), beta);
    }

    void Validate()
    {
        if (!double.IsFinite(Reference) || !(Scale > 0) || !double.IsFinite(Scale) || !(Beta >= 0) || !double.IsFinite(Beta))
            throw new BasinException($"realism weight needs a finite reference, a scale > 0 and β ≥ 0, got D_ref = {Reference}, " +
                $"s = {Scale}, β = {Beta}");
    }

    static double Softplus(double x) => x > 30 ? x : double.LogP1(Math.Exp(x));
}
