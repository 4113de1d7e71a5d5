using Basin.Data;
using Basin.Gan;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class WganTrainerTests
{
    readonly ITestOutputHelper output;
    public WganTrainerTests(ITestOutputHelper output) => this.output = output;

    static readonly int[] Small = [64, 64, 64];

    static WganConfig Quick(LipschitzRegularization kind, int iterations = 300) => new(
        Regularization: kind, GeneratorIterations: iterations, BatchSize: 64, WarmupIterations: 0,
        Optimizer: GanOptimizer.Adam, LearningRate: 1e-3, Seed: 1, ProgressInterval: 50);

    // λ = 10 for LP, λ = 1 for GP: in this short run GP at λ = 10 does not get going (W1 stays ≈ 1.2–1.4), the
    // λ-sensitivity the WGAN-LP paper reports; the comparison over λ is WganComparison's job, not a unit test's.
    [Theory]
    [InlineData(LipschitzRegularization.LipschitzPenalty, 10)]
    [InlineData(LipschitzRegularization.GradientPenalty, 1)]
    public void ShortRunOnEightGaussiansDecreasesExactW1(LipschitzRegularization kind, double lambda)
    {
        using var data = ToyDatasets.Create("8gaussians", 2048, seed: 1);
        using var generator = new MlpGenerator(hiddenWidths: Small, seed: 1);
        using var critic = new MlpCritic(hiddenWidths: Small, seed: 2);
        double before = ExactWasserstein.GeneratorDistance(generator, data.Inputs, 256, seed: 3);
        var reports = new List<WganProgress>();
        var result = new WganTrainer(generator, critic, Quick(kind) with { Lambda = lambda }).Train(data.Inputs, new SynchronousProgress<WganProgress>(reports.Add));
        double after = ExactWasserstein.GeneratorDistance(generator, data.Inputs, 256, seed: 3);
        output.WriteLine($"{kind} λ={lambda}: W1 {before:F4} → {after:F4}; estimates {string.Join(", ", result.History.Select(h => h.WassersteinEstimate.ToString("F3")))}");

        Assert.True(after < 0.5 * before, $"W1 went from {before} to {after}");
        Assert.Equal(new[] { 50, 100, 150, 200, 250, 300 }, reports.Select(r => r.Iteration));
        Assert.Equal(reports, result.History);
        Assert.All(reports, r => Assert.True(r.Penalty >= 0 && double.IsFinite(r.CriticLoss) && double.IsFinite(r.GeneratorLoss)));
        // The critic loss is −estimate + λ·P on the same batch.
        Assert.All(reports, r => Assert.Equal(-r.WassersteinEstimate + lambda * r.Penalty, r.CriticLoss, 3));
    }

    [Fact]
    public void WeightClippingKeepsTheCriticWithinTheBoundDuringTraining()
    {
        using var data = ToyDatasets.Create("8gaussians", 512, seed: 1);
        using var generator = new MlpGenerator(hiddenWidths: [16], seed: 1);
        using var critic = new MlpCritic(hiddenWidths: [16], seed: 2);
        var config = Quick(LipschitzRegularization.WeightClipping, 5) with { ClipValue = 0.02, Optimizer = GanOptimizer.RmsProp, LearningRate = null };
        var result = new WganTrainer(generator, critic, config).Train(data.Inputs);
        Assert.All(critic.parameters(), p => Assert.True(p.abs().max().item<float>() <= 0.02f));
        Assert.Equal(0.0, result.Final.Penalty);
        Assert.Equal(5, result.Final.Iteration);
    }

    [Fact]
    public void NaNLossRaisesDivergenceWithTheIteration()
    {
        using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
        using var generator = new MlpGenerator(hiddenWidths: [8], seed: 1);
        // An iteration makes 3 critic steps (2 critic calls each: real and fake) and one generator step (1 call), so the
        // 10th call is iteration 2's second critic step.
        using var critic = new NaNAfterCalls(new MlpCritic(hiddenWidths: [8], seed: 2), criticCallsBeforeNaN: 7 + 2);
        var config = Quick(LipschitzRegularization.WeightClipping, 10) with { CriticSteps = 3 };
        var e = Assert.Throws<DivergenceException>(() => new WganTrainer(generator, critic, config).Train(data.Inputs));
        Assert.Equal("wgan diverged at generator iteration 2: critic loss is NaN", e.Message);
    }

    [Fact]
    public void CheckpointsAreWrittenAtTheIntervalAndRestoreBothNetworks()
    {
        var dir = Path.Combine(Path.GetTempPath(), "basin-gan-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
            using var generator = new MlpGenerator(hiddenWidths: [8], seed: 1);
            using var critic = new MlpCritic(hiddenWidths: [8], seed: 2);
            var config = Quick(LipschitzRegularization.LipschitzPenalty, 7) with { CheckpointDirectory = dir, CheckpointInterval = 3, CriticSteps = 1 };
            var result = new WganTrainer(generator, critic, config).Train(data.Inputs);

            Assert.Equal(new[] { 3, 6, 7 }.Select(i => Path.Combine(dir, WganCheckpoint.FileName(i))), result.Checkpoints);
            Assert.Equal(result.Checkpoints.Order(), Directory.GetFiles(dir).Order()); // no temporary files left
            Assert.Equal(new[] { 3, 6, 7 }, result.History.Select(h => h.Iteration)); // checkpoints are reported too

            using var g2 = new MlpGenerator(hiddenWidths: [8], seed: 9);
            using var c2 = new MlpCritic(hiddenWidths: [8], seed: 9);
            Assert.Equal(7, WganCheckpoint.Load(result.Checkpoints[^1], g2, c2));
            using var z = randn(5, 2);
            Assert.Equal(generator.forward(z).data<float>().ToArray(), g2.forward(z).data<float>().ToArray());
            Assert.Equal(critic.forward(z).data<float>().ToArray(), c2.forward(z).data<float>().ToArray());

            using var wrongShape = new MlpCritic(hiddenWidths: [9]);
            Assert.Throws<DataFormatException>(() => WganCheckpoint.Load(result.Checkpoints[0], g2, wrongShape));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CancellationStopsTraining()
    {
        using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
        using var generator = new MlpGenerator(hiddenWidths: [8], seed: 1);
        using var critic = new MlpCritic(hiddenWidths: [8], seed: 2);
        using var cts = new CancellationTokenSource();
        var trainer = new WganTrainer(generator, critic, Quick(LipschitzRegularization.LipschitzPenalty, 1000) with { ProgressInterval = 1 });
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(data.Inputs, new SynchronousProgress<WganProgress>(p => { seen = p.Iteration; if (p.Iteration == 3) cts.Cancel(); }), cts.Token));
        Assert.Equal(3, seen);
    }

    [Fact]
    public void RejectsBadConfigurationsAndData()
    {
        using var generator = new MlpGenerator(hiddenWidths: [8]);
        using var critic = new MlpCritic(hiddenWidths: [8]);
        Assert.Equal("wgan: lambda must be a finite number ≥ 0, got -1",
            Assert.Throws<BasinException>(() => new WganTrainer(generator, critic, new WganConfig(Lambda: -1))).Message);
        Assert.Throws<BasinException>(() => new WganTrainer(generator, critic, new WganConfig(CriticSteps: 0)));
        using var imageCritic = new ConvCritic(width: 4);
        Assert.Equal("generator mlp-generator:2→8→2 makes samples [2] but critic conv-critic:w4 takes [1,28,28]",
            Assert.Throws<BasinException>(() => new WganTrainer(generator, imageCritic, new WganConfig())).Message);
        using var threeD = zeros(10, 3);
        Assert.Equal("real data must be [N,2] with N ≥ 1 for mlp-generator:2→8→2, got [10,3]",
            Assert.Throws<BasinException>(() => new WganTrainer(generator, critic, new WganConfig()).Train(threeD)).Message);
    }

    [Fact]
    public void DefaultsFollowThePapers()
    {
        var c = new WganConfig();
        Assert.Equal(5e-5, c.EffectiveLearningRate);
        Assert.Equal(1e-4, (c with { Optimizer = GanOptimizer.Adam }).EffectiveLearningRate);
        Assert.Equal(100, c.CriticStepsAt(25));
        Assert.Equal(5, c.CriticStepsAt(26));
        Assert.Equal(0.01, c.ClipValue);
        using var g = new MlpGenerator();
        using var f = new MlpCritic();
        Assert.Equal("mlp-generator:2→512,512,512→2", g.Spec);
        Assert.Equal("mlp-critic:2→512,512,512→1", f.Spec);
    }

    /// <summary>Wraps a critic and returns NaN scores from the given call on.</summary>
    sealed class NaNAfterCalls : Critic
    {
        readonly MlpCritic inner;
        readonly int limit;
        int calls;

        public NaNAfterCalls(MlpCritic inner, int criticCallsBeforeNaN) : base(nameof(NaNAfterCalls))
        {
            this.inner = inner;
            limit = criticCallsBeforeNaN;
            register_module("inner", inner);
        }

        public override long[] SampleShape => inner.SampleShape;
        public override string Spec => "nan-critic";

        public override Tensor forward(Tensor x)
        {
            var scores = inner.forward(x);
            return ++calls > limit ? scores * double.NaN : scores;
        }
    }

    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
