using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// The weights a mixture of fixed predictors earns on held-out data: w on the simplex maximizing
/// Σ_n log Σ_s w_s·p_s(y_n | x_n), found by the EM fixed point w_s ← mean_n [ w_s p_s(y_n|x_n) / Σ_t w_t p_t(y_n|x_n) ]
/// started from uniform weights. The objective is concave in w, so EM climbs to its maximum; each update raises the
/// log-likelihood. The posterior-predictive ensemble weighs SGLD samples equally; these weights say which samples
/// the held-out data would rather trust.
/// </summary>
public static class MixtureWeights
{
    /// <param name="likelihoods">p_s(y_n | x_n) for S members and N examples, [S, N], positive.</param>
    /// <returns>The weights (sum 1) and the mean held-out log-likelihood of the mixture they give.</returns>
    public static (double[] Weights, double MeanLogLikelihood, int Iterations) Fit(Tensor likelihoods, int maxIterations = 1000,
        double tolerance = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(likelihoods);
        if (likelihoods.dim() != 2 || likelihoods.shape[0] < 1 || likelihoods.shape[1] < 1)
            throw new BasinException("mixture weights need a [members, examples] table of likelihoods, got " +
                $"[{string.Join(",", likelihoods.shape)}]");
        if (maxIterations < 1) throw new BasinException($"mixture weights need at least 1 iteration, got {maxIterations}");
        using var scope = NewDisposeScope();
        using var floor = 1e-300.ToScalar();
        var p = likelihoods.to_type(ScalarType.Float64).clamp_min(floor);
        long s = p.shape[0];
        using var uniform = (1.0 / s).ToScalar();
        var w = full([s, 1], uniform, dtype: ScalarType.Float64);
        double previous = double.NegativeInfinity;
        int iteration = 0;
        double current = previous;
        while (iteration < maxIterations)
        {
            iteration++;
            var weighted = p.mul(w);                       // [S, N]
            var mixture = weighted.sum([0], keepdim: true); // [1, N]
            current = mixture.log().mean().ToDouble();
            w = weighted.div(mixture).mean([1], keepdim: true);
            if (current - previous <= tolerance * Math.Max(1, Math.Abs(current))) break;
            previous = current;
        }
        var weights = w.squeeze(1).data<double>().ToArray();
        double final = p.mul(w).sum([0]).log().mean().ToDouble();
        return (weights, final, iteration);
    }
}
