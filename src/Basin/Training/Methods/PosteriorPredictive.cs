using Basin.Native;
using Basin.Data;
using Basin.IO;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>Log-loss (mean negative log-probability of the true label) and accuracy of one predictor.</summary>
public sealed record PredictiveScore(string Name, double LogLoss, double Accuracy);

/// <summary>The posterior-predictive ensemble against its members, on one data set.</summary>
/// <summary>
/// <paramref name="MixtureWeights"/>: per member, the weight it earns in the best mixture of the members on the same
/// data (<see cref="Methods.MixtureWeights"/>); the ensemble itself weighs members equally.
/// </summary>
public sealed record EnsembleEvaluation(IReadOnlyList<PredictiveScore> Members, PredictiveScore Ensemble, long Count)
{
    public IReadOnlyList<double> MixtureWeights { get; init; } = [];

    public double MeanMemberLogLoss => Members.Average(m => m.LogLoss);
    public double MeanMemberAccuracy => Members.Average(m => m.Accuracy);
}

/// <summary>
/// The posterior-predictive ensemble of SGLD samples (docs/definitions.md §10): p(y | x) ≈ (1/S) Σ_s softmax(f(x; θ_s)),
/// the average of the members' predicted probabilities (not of their logits), scored by log-loss and accuracy
/// next to each member's own scores.
/// </summary>
public static class PosteriorPredictive
{
    /// <summary>
    /// Loads each weights file into <paramref name="model"/> in turn and scores members and ensemble in eval mode;
    /// the model's own weights are put back afterwards.
    /// </summary>
    public static EnsembleEvaluation Evaluate(Classifier model, IReadOnlyList<string> sampleFiles, LabeledDataset data,
        int batchSize = 1000)
    {
        if (sampleFiles.Count == 0) throw new BasinException("the ensemble has no samples (did the SGLD run pass its burn-in?)");
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples to evaluate the ensemble on");
        if (data.ClassCount != model.ClassCount) throw new BasinException($"{data.Name} has {data.ClassCount} classes but the model " +
            $"has {model.ClassCount}");
        if (batchSize < 1) throw new BasinException($"batch size must be at least 1, got {batchSize}");
        using var snapshot = new ModelStateSnapshot(model);
        using var _ = no_grad();
        using var sum = zeros([data.Count, model.ClassCount], ScalarType.Float64);
        var members = new List<PredictiveScore>();
        var truth = new List<Tensor>();
        try
        {
            foreach (var file in sampleFiles)
            {
                Weights.Load(model, file);
                using var probs = Probabilities(model, data, batchSize);
                members.Add(Score(Path.GetFileNameWithoutExtension(file), probs, data.Labels));
                truth.Add(probs.gather(1, data.Labels.unsqueeze(1)).squeeze(1));
                sum.add_(probs, Scalars.One);
            }
            using var memberCount = sampleFiles.Count.ToScalar();
            using var mean = sum.div(memberCount);
            using var likelihoods = stack(truth);
            var mixture = MixtureWeights.Fit(likelihoods);
            return new EnsembleEvaluation(members, Score("ensemble", mean, data.Labels), data.Count) { MixtureWeights = mixture.Weights };
        }
        finally
        {
            foreach (var t in truth) t.Dispose();
        }
    }

    static Tensor Probabilities(Classifier model, LabeledDataset data, int batchSize)
    {
        using var logits = Evaluation.Logits(model, data, batchSize);
        return nn.functional.softmax(logits.to_type(ScalarType.Float64), 1);
    }

    static PredictiveScore Score(string name, Tensor probs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        // A probability that underflowed to 0 would give an infinite loss; the floor is far below any real prediction.
        using var floor = 1e-300.ToScalar();
        var picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1).clamp_min(floor);
        double logLoss = -picked.log().mean().ToDouble();
        double accuracy = probs.argmax(1).eq(labels).to_type(ScalarType.Float64).mean().ToDouble();
        return new PredictiveScore(name, logLoss, accuracy);
    }
}
