using Basin.Data;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The Fréchet distance between Gaussians fitted to two feature sets (FID when the features come from Inception;
/// here from any classifier's feature extractor):
/// FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½.
/// The symmetric form Σ₁^½ Σ₂ Σ₁^½ has the same eigenvalues as Σ₁Σ₂ but is symmetric PSD, so both square roots come
/// from symmetric eigen-decompositions (eigenvalues clamped at 0 against rounding). Everything runs in float64;
/// covariances are unbiased (divided by N − 1).
/// </summary>
public static class FrechetDistance
{
    /// <summary>FD between the features of two sample sets; <paramref name="features"/> maps a batch [B, ...] to [B, m].</summary>
    public static double Compute(Tensor samplesA, Tensor samplesB, Func<Tensor, Tensor> features, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var a = Extract(samplesA, features, batchSize);
        using var b = Extract(samplesB, features, batchSize);
        return FromFeatures(a, b);
    }

    /// <summary>FD between two feature sets [N₁, m] and [N₂, m].</summary>
    public static double FromFeatures(Tensor featuresA, Tensor featuresB)
    {
        if (featuresA.dim() != 2 || featuresB.dim() != 2 || featuresA.shape[1] != featuresB.shape[1])
            throw new BasinException("Fréchet distance needs feature sets [N,m] with the same m, got " +
                $"[{string.Join(",", featuresA.shape)}] and [{string.Join(",", featuresB.shape)}]");
        using var scope = torch.NewDisposeScope();
        var (mu1, sigma1) = Moments(featuresA);
        var (mu2, sigma2) = Moments(featuresB);
        return FromMoments(mu1, sigma1, mu2, sigma2);
    }

    /// <summary>Mean [m] and unbiased covariance [m, m] of features [N, m], in float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new BasinException($"feature moments need [N,m] with N ≥ 2, got [{string.Join(",", features.shape)}]");
        using var scope = torch.NewDisposeScope();
        var x = features.detach().to(ScalarType.Float64);
        if (!x.isfinite().all().item<bool>()) throw new BasinException("features contain NaN or infinite values");
        var mean = x.mean(new long[] { 0 });
        var centred = x - mean;
        using var degrees = (x.shape[0] - 1).ToScalar();
        var covariance = torch.mm(centred.t(), centred).div(degrees);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>FD between N(μ₁, Σ₁) and N(μ₂, Σ₂).</summary>
    public static double FromMoments(Tensor mean1, Tensor covariance1, Tensor mean2, Tensor covariance2)
    {
        long m = mean1.shape.Length == 1 ? mean1.shape[0] : -1;
        bool ok = m > 0 && mean2.shape.SequenceEqual(new[] { m })
                  && covariance1.shape.SequenceEqual(new[] { m, m }) && covariance2.shape.SequenceEqual(new[] { m, m });
        if (!ok)
            throw new BasinException($"Fréchet distance needs means [m] and covariances [m,m], got [{string.Join(",", mean1.shape)}], " +
                $"[{string.Join(",", covariance1.shape)}], [{string.Join(",", mean2.shape)}], [{string.Join(",", covariance2.shape)}]");
        using var scope = torch.NewDisposeScope();
        var mu1 = mean1.to(ScalarType.Float64);
        var mu2 = mean2.to(ScalarType.Float64);
        var s1 = Symmetric(covariance1.to(ScalarType.Float64));
        var s2 = Symmetric(covariance2.to(ScalarType.Float64));
        foreach (var t in new[] { mu1, mu2, s1, s2 })
            if (!t.isfinite().all().item<bool>()) throw new BasinException("Fréchet distance: means and covariances must be finite");

        var root1 = SymmetricSqrt(s1);
        var middle = Symmetric(torch.mm(torch.mm(root1, s2), root1));
        var (eigenvalues, _) = torch.linalg.eigh(middle);
        using var zero = 0.ToScalar();
        double traceRoot = eigenvalues.clamp_min(zero).sqrt().sum().item<double>();
        double meanTerm = (mu1 - mu2).pow(Scalars.Two).sum().item<double>();
        return meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceRoot;
    }

    static Tensor Symmetric(Tensor s) => s.add(s.t(), Scalars.One).div(Scalars.Two);

    static Tensor SymmetricSqrt(Tensor s)
    {
        var (eigenvalues, vectors) = torch.linalg.eigh(s);
        using var zero = 0.ToScalar();
        var scaled = vectors * eigenvalues.clamp_min(zero).sqrt().unsqueeze(0);
        return torch.mm(scaled, vectors.t());
    }

    static Tensor Extract(Tensor samples, Func<Tensor, Tensor> features, int batchSize)
    {
        if (batchSize < 1) throw new BasinException($"batch size must be at least 1, got {batchSize}");
        if (samples.dim() < 1 || samples.shape[0] < 2) throw new BasinException("Fréchet distance needs at least 2 samples per set, got " +
            $"[{string.Join(",", samples.shape)}]");
        var parts = new List<Tensor>();
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var (start, n) in Chunking.Ranges(samples.shape[0], batchSize))
            {
                using var batch = samples.narrow(0, start, n);
                using var f = features(batch);
                if (f.dim() != 2 || f.shape[0] != batch.shape[0])
                    throw new BasinException($"feature extractor must map [B,...] to [B,m], got [{string.Join(",", f.shape)}] for " +
                        $"B = {batch.shape[0]}");
                parts.Add(f.detach().to(ScalarType.Float64));
            }
            return torch.cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
