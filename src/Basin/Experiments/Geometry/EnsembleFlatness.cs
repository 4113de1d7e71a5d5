using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Measures;
using Basin.Models;
using Basin.Training.Methods;

namespace Basin.Experiments.Geometry;

/// <summary>One SGLD sample: its weight in the best mixture of the samples and the flatness of its neighbourhood
/// (the head's relative flatness κ_Tr, Hessian trace and λ_max on the training data).</summary>
public sealed record MemberFlatness(string Name, double MixtureWeight, double RelativeFlatness, double HessianTrace, double LambdaMax);

/// <summary>
/// The last report of SGLD (docs/definitions.md §10): the relation between the flatness of a sample's neighbourhood and its weight in the
/// ensemble, as Kendall τ-b between each flatness measure and the mixture weight over the samples (negative τ: the
/// flatter samples weigh more). Null τ when fewer than two samples or no spread. <paramref name="TauSampleOrder"/> is the
/// control: τ between a sample's position in the chain and its weight; far from 0, the chain was still moving (not yet
/// sampling its stationary distribution) and the weights say more about time than about flatness.
/// </summary>
public sealed record EnsembleFlatnessResult(IReadOnlyList<MemberFlatness> Members, int Examples,
    double? TauRelativeFlatness, double? TauHessianTrace, double? TauLambdaMax, double? TauSampleOrder);

public static class EnsembleFlatness
{
    /// <summary>
    /// Measures each sample's head geometry on the first <paramref name="maxSamples"/> training examples
    /// (<see cref="MeasureJob.Summarize"/>) next to the mixture weight the ensemble evaluation found for it; the model's
    /// own weights are put back afterwards.
    /// </summary>
    public static EnsembleFlatnessResult Analyze(Classifier model, IReadOnlyList<string> sampleFiles, EnsembleEvaluation ensemble,
        LabeledDataset train, int maxSamples = 2000, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleFiles);
        ArgumentNullException.ThrowIfNull(ensemble);
        if (ensemble.MixtureWeights.Count != sampleFiles.Count)
            throw new BasinException($"the ensemble has {ensemble.MixtureWeights.Count} mixture weights for {sampleFiles.Count} samples");
        using var snapshot = new ModelStateSnapshot(model);
        var members = new List<MemberFlatness>();
        for (int i = 0; i < sampleFiles.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            Weights.Load(model, sampleFiles[i]);
            var g = MeasureJob.Summarize(model, train, maxSamples, ct);
            members.Add(new MemberFlatness(Path.GetFileNameWithoutExtension(sampleFiles[i]), ensemble.MixtureWeights[i], g.RelativeFlatness,
                g.HessianTrace, g.LambdaMax));
        }
        var weights = members.Select(m => m.MixtureWeight).ToArray();
        double? Tau(IReadOnlyList<double> values)
        {
            if (members.Count < 2) return null;
            double tau = KendallTau.TauB(values, weights);
            return double.IsFinite(tau) ? tau : null;
        }
        return new EnsembleFlatnessResult(members, (int)Math.Min(maxSamples, train.Count),
            Tau([.. members.Select(m => m.RelativeFlatness)]), Tau([.. members.Select(m => m.HessianTrace)]),
            Tau([.. members.Select(m => m.LambdaMax)]), Tau([.. Enumerable.Range(0, members.Count).Select(i => (double)i)]));
    }
}
