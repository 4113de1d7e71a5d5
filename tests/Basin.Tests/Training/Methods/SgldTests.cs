using Basin.IO;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

[Collection("torch global generator")]
public sealed class SgldTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("basin-sgld-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static TrainingConfig Config => new(2, 8, 3) { Threads = 1, EvaluateEveryEpoch = false };

    [Fact]
    public void AtZeroTemperatureSgldIsGradientDescentWithStepEtaNOverTwo()
    {
        using var data = TinyData.Make(40, seed: 2);
        using var sgd = new TinyMlp(dropout: 0, seed: 1);
        using var sgld = new TinyMlp(dropout: 0, seed: 1);
        const double eta = 0.004;
        // θ ← θ − (η/2)·N·∇(mean loss): plain SGD at learning rate η/2·N (same double arithmetic).
        new Trainer(Recipe.Sgd(-(-eta / 2 * 40), weightDecay: 1e-3), Config).Run(sgd, data);
        var recipe = Recipe.Sgd(eta, weightDecay: 1e-3) with { Update = new Sgld(Temperature: 0, DatasetSize: 40) };
        new Trainer(recipe, Config).Run(sgld, data);
        foreach (var (name, t) in sgd.state_dict()) TensorAssert.BitIdentical(t, sgld.state_dict()[name], name);
    }

    [Fact]
    public void NoiseHasVarianceEtaTimesTemperature()
    {
        manual_seed(4);
        var w = zeros(200_000).requires_grad_(true);
        using var updater = new Sgld(Temperature: 2.5, DatasetSize: 1000).Bind([new NamedParameter("w", w)]);
        updater.Apply(0.01);   // no gradient: pure diffusion
        double variance = w.detach().square().mean().ToDouble();
        Assert.InRange(variance, 0.025 * 0.98, 0.025 * 1.02);
        Assert.InRange(w.detach().mean().ToDouble(), -0.002, 0.002);
    }

    [Fact]
    public void SamplesAreTakenAfterBurnInEveryThinSteps()
    {
        using var data = TinyData.Make(40, seed: 2);   // 5 batches × 2 epochs = 10 updates
        using var model = new TinyMlp(dropout: 0, seed: 1);
        var taken = new List<SgldSample>();
        var recipe = Recipe.Sgd(1e-3) with { Update = new Sgld(1, 40, BurnIn: 3, Thin: 2) { OnSample = taken.Add } };
        new Trainer(recipe, Config).Run(model, data);
        Assert.Equal([5L, 7, 9], taken.Select(s => s.Step));
        Assert.Equal([0, 1, 2], taken.Select(s => s.Index));
    }

    [Fact]
    public void EnsembleAveragesTheMembersProbabilitiesAndPutsTheModelBack()
    {
        using var data = TinyData.Make(50, seed: 6);
        var files = new List<string>();
        var probs = new List<Tensor>();
        foreach (var seed in new long[] { 1, 2, 3 })
        {
            using var member = new TinyMlp(dropout: 0, seed: seed);
            var file = Path.Combine(_dir, $"sample-{seed}.safetensors");
            Weights.Save(member, file);
            files.Add(file);
            using var _ = no_grad();
            probs.Add(nn.functional.softmax(member.forward(data.Inputs).to_type(ScalarType.Float64), 1));
        }
        using var model = new TinyMlp(dropout: 0.3, seed: 9);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var result = PosteriorPredictive.Evaluate(model, files, data, batchSize: 16);   // batches change float32 rounding only

        var mean = stack(probs).mean([0]);
        var y = data.Labels.unsqueeze(1);
        Assert.Equal(-mean.gather(1, y).log().mean().ToDouble(), result.Ensemble.LogLoss, 1e-6);
        Assert.Equal(mean.argmax(1).eq(data.Labels).to_type(ScalarType.Float64).mean().ToDouble(), result.Ensemble.Accuracy, 1e-12);
        for (int s = 0; s < 3; s++)
            Assert.Equal(-probs[s].gather(1, y).log().mean().ToDouble(), result.Members[s].LogLoss, 1e-6);
        // By Jensen, the ensemble's log-loss is at most the members' mean.
        Assert.True(result.Ensemble.LogLoss <= result.MeanMemberLogLoss);
        foreach (var (name, t) in model.state_dict()) TensorAssert.BitIdentical(before[name], t, name);
        Assert.True(model.training);
        // The mixture weights are those of the members' true-label likelihoods.
        var fitted = MixtureWeights.Fit(stack(probs.Select(p => p.gather(1, y).squeeze(1)).ToArray())).Weights;
        Assert.Equal(3, result.MixtureWeights.Count);
        for (int s = 0; s < 3; s++) Assert.Equal(fitted[s], result.MixtureWeights[s], 6);

        // Each member's flatness is its own head geometry on the training data; τ relates it to the weights.
        var flatness = Basin.Experiments.Geometry.EnsembleFlatness.Analyze(model, files, result, data, maxSamples: 40);
        Assert.Equal(40, flatness.Examples);
        using var subset = data.Take(40);
        for (int s = 0; s < 3; s++)
        {
            using var member = new TinyMlp(dropout: 0, seed: s + 1);
            var own = Basin.Experiments.Geometry.MeasureJob.Summarize(member, subset);
            Assert.Equal(own.RelativeFlatness, flatness.Members[s].RelativeFlatness, 9);
            Assert.Equal(own.HessianTrace, flatness.Members[s].HessianTrace, 9);
            Assert.Equal(result.MixtureWeights[s], flatness.Members[s].MixtureWeight);
        }
        Assert.Equal(Basin.Measures.KendallTau.TauB(flatness.Members.Select(m => m.RelativeFlatness).ToArray(), result.MixtureWeights.ToArray()),
            flatness.TauRelativeFlatness!.Value, 12);
        Assert.Equal(Basin.Measures.KendallTau.TauB([0.0, 1, 2], result.MixtureWeights.ToArray()), flatness.TauSampleOrder!.Value, 12);
        foreach (var (name, t) in model.state_dict()) TensorAssert.BitIdentical(before[name], t, name);
    }

    [Fact]
    public void MixtureWeightsMaximizeTheHeldOutLikelihoodOnTheSimplex()
    {
        // Two members: the log-likelihood is concave in w = weight of the first; a fine grid finds its maximum.
        using var p = tensor(new double[,] { { 0.9, 0.2, 0.6, 0.05, 0.7 }, { 0.3, 0.8, 0.5, 0.6, 0.1 } });
        var (weights, meanLogLikelihood, _) = MixtureWeights.Fit(p);
        double Ll(double w) => Enumerable.Range(0, 5).Average(n => Math.Log(w * p[0, n].ToDouble() + (1 - w) * p[1, n].ToDouble()));
        var best = Enumerable.Range(0, 100_001).Select(i => i / 100_000.0).MaxBy(Ll);
        Assert.Equal(best, weights[0], 3);
        Assert.Equal(1.0, weights.Sum(), 12);
        Assert.Equal(Ll(weights[0]), meanLogLikelihood, 12);
        Assert.True(meanLogLikelihood >= Ll(best) - 1e-9);

        // Identical members keep uniform weights; a member that is always right takes (nearly) all the weight.
        using var same = tensor(new double[,] { { 0.4, 0.7 }, { 0.4, 0.7 }, { 0.4, 0.7 } });
        Assert.All(MixtureWeights.Fit(same).Weights, w => Assert.Equal(1.0 / 3, w, 12));
        using var dominant = tensor(new double[,] { { 1, 1, 1 }, { 0.5, 0.2, 0.9 } });
        Assert.True(MixtureWeights.Fit(dominant).Weights[0] > 0.99);

        var e = Assert.Throws<BasinException>(() => MixtureWeights.Fit(tensor(new double[] { 0.5, 0.5 })));
        Assert.Contains("[members, examples]", e.Message);
    }
}
