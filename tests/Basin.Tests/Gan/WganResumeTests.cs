using Basin.Data;
using Basin.Gan;
using Basin.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

/// <summary>
/// Resuming from a checkpoint is bit-exact: N iterations straight and k iterations, checkpoint, fresh networks and
/// trainer, resume to N give identical generator and critic weights, for RMSProp and Adam, GP and LP (whose penalty
/// points are random too), and also when Ctrl+C stopped the trainer between two critic steps of an iteration.
/// </summary>
public class WganResumeTests
{
    const int N = 9, K = 4;
    static readonly int[] Tiny = [16, 16];

    // Warm-up of 5 iterations with 3 critic steps, then 2: the resume point k = 4 lies inside the warm-up.
    static WganConfig Config(GanOptimizer optimizer, LipschitzRegularization penalty, PenaltySampling sampling = PenaltySampling.Interpolates) =>
        new(Regularization: penalty, Sampling: sampling, GeneratorIterations: N, CriticSteps: 2, WarmupCriticSteps: 3, WarmupIterations: 5,
            BatchSize: 16, Optimizer: optimizer, LearningRate: 1e-3, Seed: 5, ProgressInterval: 100);

    static (MlpGenerator, MlpCritic) Fresh(int seed = 1) => (new MlpGenerator(hiddenWidths: Tiny, seed: seed), new MlpCritic(hiddenWidths: Tiny, seed: seed + 1));

    [Theory]
    [InlineData(GanOptimizer.RmsProp, LipschitzRegularization.GradientPenalty, PenaltySampling.Interpolates)]
    [InlineData(GanOptimizer.RmsProp, LipschitzRegularization.LipschitzPenalty, PenaltySampling.Interpolates)]
    [InlineData(GanOptimizer.Adam, LipschitzRegularization.GradientPenalty, PenaltySampling.Interpolates)]
    [InlineData(GanOptimizer.Adam, LipschitzRegularization.LipschitzPenalty, PenaltySampling.RealPerturbations)]
    public void ResumingFromACheckpointGivesTheWeightsOfAnUninterruptedRun(GanOptimizer optimizer, LipschitzRegularization penalty, PenaltySampling sampling)
    {
        using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
        var config = Config(optimizer, penalty, sampling);
        var (g, c) = Fresh();
        using var straightG = g;
        using var straightC = c;
        new WganTrainer(straightG, straightC, config).Train(data.Inputs);

        using var dir = new TempFolder();
        string checkpoint;
        var (g1, c1) = Fresh();
        using (g1)
        using (c1)
            checkpoint = new WganTrainer(g1, c1, config with { GeneratorIterations = K, CheckpointDirectory = dir.Path }).Train(data.Inputs).Checkpoints[^1];
        using (var file = SafeTensors.Load(checkpoint))
        {
            Assert.Equal(optimizer.ToString(), file.Metadata["trainer_optimizer"]);
            Assert.Equal("0", file.Metadata["trainer_critic_steps_done"]);
            Assert.Equal(ScalarType.Byte, file.Tensors["trainer.random"].dtype);
            // One step count per parameter tensor of each network: 3 layers × (weight, bias).
            Assert.Equal(6, file.Tensors.Keys.Count(k => k.StartsWith("trainer.critic_optimizer.") && k.EndsWith(".step")));
            Assert.Equal(4 * 3, file.Tensors["trainer.critic_optimizer.0.step"].item<long>()); // 4 warm-up iterations of 3 critic steps
            Assert.Equal(K, file.Tensors["trainer.generator_optimizer.0.step"].item<long>());
        }

        // Everything rebuilt from scratch, with different initial weights that the checkpoint overwrites.
        var (g2, c2) = Fresh(seed: 40);
        using (g2)
        using (c2)
        {
            using var contents = WganCheckpoint.Restore(checkpoint, g2, c2);
            Assert.Equal(K, contents.Iteration);
            Assert.NotNull(contents.TrainerState);
            new WganTrainer(g2, c2, config with { StartIteration = K }).Train(data.Inputs, resumeFrom: contents.TrainerState);
            AssertBitIdentical(straightG, g2);
            AssertBitIdentical(straightC, c2);
        }

        // Without the trainer state (a checkpoint from before it was stored) training still resumes, but on fresh moments
        // and a fresh random stream, so the weights differ: the state is what makes the resume exact.
        var (g3, c3) = Fresh(seed: 40);
        using (g3)
        using (c3)
        {
            Assert.Equal(K, WganCheckpoint.Load(checkpoint, g3, c3));
            new WganTrainer(g3, c3, config with { StartIteration = K }).Train(data.Inputs);
            Assert.False(SameWeights(straightG, g3) && SameWeights(straightC, c3), "a resume without trainer state matched the straight run");
        }
    }

    [Fact]
    public void CtrlCBetweenCriticStepsRecordsTheStepsTakenAndResumingStillMatchesTheStraightRun()
    {
        using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
        var config = Config(GanOptimizer.Adam, LipschitzRegularization.LipschitzPenalty) with { WarmupIterations = 0, CriticSteps = 3 };
        // Per iteration: 3 critic steps × 3 critic calls (real, fake, penalty points) + 1 call in the generator step.
        // Call 44 is in iteration 5's second critic step; the trainer notices the cancellation before the third.
        using var straightG = new MlpGenerator(hiddenWidths: Tiny, seed: 1);
        using var straightC = new CancellingCritic(new MlpCritic(hiddenWidths: Tiny, seed: 2), null, int.MaxValue);
        new WganTrainer(straightG, straightC, config).Train(data.Inputs);

        using var dir = new TempFolder();
        using var cts = new CancellationTokenSource();
        string checkpoint;
        using (var g1 = new MlpGenerator(hiddenWidths: Tiny, seed: 1))
        using (var c1 = new CancellingCritic(new MlpCritic(hiddenWidths: Tiny, seed: 2), cts, cancelAtCall: 44))
        {
            var e = Assert.Throws<WganCancelledException>(() =>
                new WganTrainer(g1, c1, config with { CheckpointDirectory = dir.Path, CheckpointInterval = 100 }).Train(data.Inputs, cancellationToken: cts.Token));
            Assert.Equal(4, e.CompletedIterations);
            checkpoint = e.Checkpoint!;
        }

        using var g2 = new MlpGenerator(hiddenWidths: Tiny, seed: 30);
        using var c2 = new CancellingCritic(new MlpCritic(hiddenWidths: Tiny, seed: 31), null, int.MaxValue);
        using var contents = WganCheckpoint.Restore(checkpoint, g2, c2);
        Assert.Equal(4, contents.Iteration);
        Assert.Equal(2, contents.TrainerState!.CriticStepsDone);
        new WganTrainer(g2, c2, config with { StartIteration = 4 }).Train(data.Inputs, resumeFrom: contents.TrainerState);
        AssertBitIdentical(straightG, g2);
        AssertBitIdentical(straightC, c2);
    }

    [Fact]
    public void AStateThatDoesNotFitTheRunIsRejectedBeforeTraining()
    {
        using var data = ToyDatasets.Create("8gaussians", 64, seed: 1);
        using var dir = new TempFolder();
        var config = Config(GanOptimizer.Adam, LipschitzRegularization.LipschitzPenalty);
        var (g, c) = Fresh();
        using (g)
        using (c)
        {
            var checkpoint = new WganTrainer(g, c, config with { GeneratorIterations = K, CheckpointDirectory = dir.Path }).Train(data.Inputs).Checkpoints[^1];
            using var contents = WganCheckpoint.Restore(checkpoint, g, c);
            var state = contents.TrainerState!;

            var wrongStart = Assert.Throws<BasinException>(() => new WganTrainer(g, c, config with { StartIteration = 3 }).Train(data.Inputs, resumeFrom: state));
            Assert.Equal("wgan: the trainer state is at iteration 4 but the run starts at 3", wrongStart.Message);
            var wrongOptimizer = Assert.Throws<BasinException>(() =>
                new WganTrainer(g, c, config with { StartIteration = K, Optimizer = GanOptimizer.RmsProp }).Train(data.Inputs, resumeFrom: state));
            Assert.Equal("wgan: the trainer state holds Adam moments but the run uses RmsProp", wrongOptimizer.Message);

            // A network of another depth does not fit the file.
            using var deeperG = new MlpGenerator(hiddenWidths: [16, 16, 16], seed: 1);
            Assert.Throws<DataFormatException>(() => WganCheckpoint.Restore(checkpoint, deeperG, c));
        }
    }

    [Fact]
    public void AGanCheckpointCarriesAChecksumLikeATrainingCheckpoint()
    {
        using var data = ToyDatasets.Create("8gaussians", 64, seed: 1);
        using var dir = new TempFolder();
        var config = Config(GanOptimizer.RmsProp, LipschitzRegularization.LipschitzPenalty);
        var (g, c) = Fresh();
        using (g)
        using (c)
        {
            var checkpoint = new WganTrainer(g, c, config with { GeneratorIterations = 2, CheckpointDirectory = dir.Path })
                .Train(data.Inputs).Checkpoints[^1];
            using (var contents = WganCheckpoint.Restore(checkpoint, g, c)) Assert.Equal(2, contents.Iteration);
            var bytes = File.ReadAllBytes(checkpoint);
            bytes[^5] ^= 0x10;   // inside the data section
            File.WriteAllBytes(checkpoint, bytes);
            var e = Assert.Throws<DataFormatException>(() => WganCheckpoint.Restore(checkpoint, g, c));
            Assert.Contains("CRC-32", e.Message);
        }
    }

    static void AssertBitIdentical(nn.Module expected, nn.Module actual)
    {
        var a = expected.named_parameters().ToList();
        var b = actual.named_parameters().ToList();
        Assert.Equal(a.Select(p => p.name), b.Select(p => p.name));
        foreach (var ((name, x), (_, y)) in a.Zip(b))
            Assert.True(Equal(x, y), $"{name} differs: max |Δ| = {(x - y).abs().max().item<float>()}");
    }

    static bool SameWeights(nn.Module a, nn.Module b) =>
        a.parameters().Zip(b.parameters()).All(p => Equal(p.First, p.Second));

    // torch.equal: same shape and every element equal.
    static bool Equal(Tensor x, Tensor y) => x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();

    /// <summary>A critic that cancels a token at its n-th call (to stop the trainer between two critic steps).</summary>
    sealed class CancellingCritic : Critic
    {
        readonly MlpCritic inner;
        readonly CancellationTokenSource? cts;
        readonly int cancelAtCall;
        int calls;

        public CancellingCritic(MlpCritic inner, CancellationTokenSource? cts, int cancelAtCall) : base(nameof(CancellingCritic))
        {
            this.inner = inner;
            this.cts = cts;
            this.cancelAtCall = cancelAtCall;
            register_module("inner", inner);
        }

        public override long[] SampleShape => inner.SampleShape;
        public override string Spec => "cancelling-critic";

        public override Tensor forward(Tensor x)
        {
            if (++calls == cancelAtCall) cts?.Cancel();
            return inner.forward(x);
        }
    }

    sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "basin-wgan-resume-" + Guid.NewGuid().ToString("N")[..8]);
        public TempFolder() => Directory.CreateDirectory(Path);
        public void Dispose() { if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true); }
    }
}
