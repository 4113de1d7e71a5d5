using Basin.Data;
using Basin.Gan;
using Basin.IO;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Gan;

/// <summary>What the CLI's recorded runs rely on: exact W1 during training, resuming at an iteration, a checkpoint on cancel.</summary>
public class WganTrainerRecordingTests
{
    static readonly int[] Tiny = [8, 8];

    static WganConfig Config(int iterations) => new(GeneratorIterations: iterations, CriticSteps: 1, WarmupIterations: 0, BatchSize: 16,
        Optimizer: GanOptimizer.Adam, Seed: 3, ProgressInterval: 2, EvaluationCount: 32);

    [Fact]
    public void ExactW1IsMeasuredAtTheEvaluationIntervalOnFixedCodesAndPoints()
    {
        using var data = ToyDatasets.Create("8gaussians", 128, seed: 0);
        using var generator = new MlpGenerator(hiddenWidths: Tiny, seed: 0);
        using var critic = new MlpCritic(hiddenWidths: Tiny, seed: 1);
        var result = new WganTrainer(generator, critic, Config(6) with { EvaluationInterval = 3 }).Train(data.Inputs);
        Assert.Equal([2, 3, 4, 6], result.History.Select(h => h.Iteration));
        Assert.Equal([false, true, false, true], result.History.Select(h => h.ExactW1 is not null));
        // The last measurement is the W1 of the trained generator on the evaluation seed's codes and real subset.
        Assert.Equal(ExactWasserstein.GeneratorDistance(generator, data.Inputs, 32, seed: 3), result.Final.ExactW1!.Value, 12);
    }

    [Fact]
    public void CancellingSavesACheckpointAtTheLastCompletedIterationAndTrainingResumesAfterIt()
    {
        using var data = ToyDatasets.Create("8gaussians", 128, seed: 0);
        using var generator = new MlpGenerator(hiddenWidths: Tiny, seed: 0);
        using var critic = new MlpCritic(hiddenWidths: Tiny, seed: 1);
        var folder = Path.Combine(Path.GetTempPath(), "basin-wgan-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        using var cts = new CancellationTokenSource();
        var config = Config(10) with { CheckpointDirectory = folder, CheckpointInterval = 100 };
        var cancelAtFour = new Reports(p => { if (p.Iteration == 4) cts.Cancel(); });
        var e = Assert.Throws<WganCancelledException>(() => new WganTrainer(generator, critic, config).Train(data.Inputs, cancelAtFour, cts.Token));
        Assert.Equal(4, e.CompletedIterations);
        Assert.Equal(Path.Combine(folder, WganCheckpoint.FileName(4)), e.Checkpoint);

        using var generator2 = new MlpGenerator(hiddenWidths: Tiny, seed: 7);
        using var critic2 = new MlpCritic(hiddenWidths: Tiny, seed: 8);
        Assert.Equal(4, WganCheckpoint.Load(e.Checkpoint!, generator2, critic2));
        using (var a = generator.forward(torch.ones(3, 2)))
        using (var b = generator2.forward(torch.ones(3, 2)))
            Assert.True(a.eq(b).all().item<bool>());

        var resumed = new WganTrainer(generator2, critic2, config with { StartIteration = 4 }).Train(data.Inputs);
        Assert.Equal([6, 8, 10], resumed.History.Select(h => h.Iteration));
        Assert.Throws<BasinException>(() => (config with { StartIteration = 10 }).Validate());
    }

    sealed class Reports(Action<WganProgress> report) : IProgress<WganProgress>
    {
        public void Report(WganProgress value) => report(value);
    }
}
