using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>How a critic's score s becomes the probability D(x) ∈ (0, 1) that the paper's metric needs.</summary>
public enum ProbabilityMap
{
    /// <summary>σ((s − m)/σ_r), m and σ_r the mean and standard deviation of the critic's scores on real data: a real sample
    /// of typical score gets ½. For WGAN critics, whose scores have an arbitrary offset and scale.</summary>
    StandardizedSigmoid,
    /// <summary>σ(s): the score read as a logit, as for a discriminator trained with the logistic GAN loss.</summary>
    Sigmoid,
}

/// <summary>
/// The map from critic scores to the probability D of "Discriminating Against Unrealistic Interpolations in GANs": the
/// paper's discriminator outputs probabilities, a WGAN critic does not, so Basin maps the score by
/// <see cref="ProbabilityMap"/> with <paramref name="Reference"/> m and <paramref name="Scale"/> σ_r (used by the
/// standardized map only).
/// </summary>
public sealed record CriticProbability(ProbabilityMap Map, double Reference = 0, double Scale = 1)
{
    /// <summary>log D elementwise (differentiable, stable for very low scores).</summary>
    public Tensor LogProbability(Tensor scores)
    {
        Validate();
        if (Map == ProbabilityMap.Sigmoid) return nn.functional.logsigmoid(scores);
        using var reference = Reference.ToScalar();
        using var scale = Scale.ToScalar();
        using var standardized = scores.sub(reference).div(scale);
        return nn.functional.logsigmoid(standardized);
    }

    /// <summary>D for one score.</summary>
    public double Probability(double score)
    {
        Validate();
        double x = Map == ProbabilityMap.Sigmoid ? score : (score - Reference) / Scale;
        return 1 / (1 + Math.Exp(-x));
    }

    /// <summary>The map with m and σ_r from the critic's scores on <paramref name="real"/> (the sigmoid map ignores them).</summary>
    public static CriticProbability Calibrate(Func<Tensor, Tensor> critic, Tensor real, ProbabilityMap map, int batchSize = 512)
    {
        var realism = RealismWeight.Calibrate(critic, real, beta: 1, batchSize);
        return map == ProbabilityMap.Sigmoid ? new CriticProbability(map) : new CriticProbability(map, realism.Reference, realism.Scale);
    }

    /// <summary>The option names: standardized-sigmoid, sigmoid.</summary>
    public static ProbabilityMap Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "standardized-sigmoid" => ProbabilityMap.StandardizedSigmoid,
        "sigmoid" => ProbabilityMap.Sigmoid,
        _ => throw new BasinException($"unknown probability map '{name}' (use standardized-sigmoid or sigmoid)"),
    };

    void Validate()
    {
        if (!double.IsFinite(Reference) || !(Scale > 0) || !double.IsFinite(Scale))
            throw new BasinException("the critic's probability map needs a finite reference and a scale > 0, got m = " +
                $"{Reference}, σ = {Scale}");
    }
}
