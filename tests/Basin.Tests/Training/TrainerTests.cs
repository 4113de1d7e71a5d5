using Basin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

/// <summary>The trainer seeds and reads torch's global generator, so these tests run alone (not beside other classes).</summary>
[CollectionDefinition("torch global generator", DisableParallelization = true)]
public class TorchGlobalGeneratorCollection;

[Collection("torch global generator")]
public sealed class TrainerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("basin-trainer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 64 examples in batches of 10: 7 batches per epoch, the last one of 4.
    static TrainingConfig Config(int epochs) => new(epochs, BatchSize: 10, Seed: 11) { Threads = 1 };

    static Recipe SgdRecipe => Recipe.Sgd(0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3, schedule: new WarmupSchedule(5, new CosineSchedule()));

    static void AssertSameWeights(TinyMlp expected, TinyMlp actual)
    {
        var e = expected.state_dict();
        var a = actual.state_dict();
        Assert.Equal(e.Keys.Order(), a.Keys.Order());
        foreach (var (name, t) in e) TensorAssert.BitIdentical(t, a[name], name);
    }

    /// <summary>Runs, cancelling after <paramref name="batches"/> updates; returns the checkpoint path.</summary>
    string RunAndCancel(Recipe recipe, TrainingConfig config, int batches, out List<TrainingEvent> events, bool withTest = false)
    {
        var path = Path.Combine(_dir, "run.safetensors");
        using var cts = new CancellationTokenSource();
        var seen = new List<TrainingEvent>();
        var progress = new Callback<TrainingEvent>(e =>
        {
            seen.Add(e);
            if (e is BatchDone { Step: var s } && s == batches) cts.Cancel();
        });
        using var data = TinyData.Make(64, seed: 2);
        using var test = withTest ? TinyData.Make(30, seed: 3) : null;
        using var model = new TinyMlp(seed: 1);
        var e = Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(recipe, config with { CheckpointPath = path }).Run(model, data, test, progress, cts.Token));
        Assert.Contains(path, e.Message);
        events = seen;
        return path;
    }

    void AssertResumeIsExact(Recipe recipe, int epochs, int cancelAfter, int expectedEpoch, int expectedBatch)
    {
        using var train = TinyData.Make(64, seed: 2);
        using var test = TinyData.Make(30, seed: 3);

        using var straight = new TinyMlp(seed: 1);
        var expected = new Trainer(recipe, Config(epochs)).Run(straight, train, test);

        var path = RunAndCancel(recipe, Config(epochs), cancelAfter, out var events, withTest: true);
        Assert.IsType<CheckpointWritten>(events[^1]);
        using (var checkpoint = Checkpoint.Load(path))
        {
            Assert.Equal((expectedEpoch, expectedBatch, (long)cancelAfter), (checkpoint.Info.Epoch, checkpoint.Info.Batch, checkpoint.Info.Step));
        }

        manual_seed(12345); // as in a fresh process: only the checkpoint can bring the generator back
        using var resumedModel = new TinyMlp(seed: 99);
        var resumedEvents = new List<TrainingEvent>();
        var resumed = new Trainer(recipe, Config(epochs) with { CheckpointPath = path, Resume = true })
            .Run(resumedModel, train, test, new Callback<TrainingEvent>(resumedEvents.Add));

        var r = Assert.IsType<Resumed>(resumedEvents[0]);
        Assert.Equal(new Resumed(path, expectedEpoch + 1, expectedBatch, cancelAfter), r with { Finished = [] });
        Assert.Equal(expectedEpoch, r.Finished.Count);   // the metrics of the epochs the checkpoint has done
        Assert.Equal(epochs * 7 - cancelAfter, resumedEvents.OfType<BatchDone>().Count());
        AssertSameWeights(straight, resumedModel);
        Assert.Equal(expected.Steps, resumed.Steps);
        Assert.Equal(expected.Epochs.Count, resumed.Epochs.Count);
        for (int i = 0; i < expected.Epochs.Count; i++)
        {
            var (x, y) = (expected.Epochs[i], resumed.Epochs[i]);
            Assert.Equal((x.Epoch, x.TrainLoss, x.TrainAccuracy, x.TestLoss, x.LearningRate, x.Steps), (y.Epoch, y.TrainLoss, y.TrainAccuracy, y.TestLoss, y.LearningRate, y.Steps));
            Assert.Equal(x.MeanObjective, y.MeanObjective, 12);
        }
    }

    [Fact]
    public void ResumingMidEpochGivesTheSameWeightsBitForBit() =>
        AssertResumeIsExact(SgdRecipe, epochs: 3, cancelAfter: 10, expectedEpoch: 1, expectedBatch: 3);

    [Fact]
    public void ResumingAtAnEpochBoundaryGivesTheSameWeightsBitForBit() =>
        AssertResumeIsExact(Recipe.Adam(0.01, weightDecay: 1e-3), epochs: 3, cancelAfter: 14, expectedEpoch: 2, expectedBatch: 0);

    [Fact]
    public void CheckpointHoldsModelOptimizerStateAndMetadata()
    {
        var path = RunAndCancel(SgdRecipe, Config(2), 9, out _);
        using var checkpoint = Checkpoint.Load(path);
        var names = checkpoint.Section("").Keys.Order().ToArray();
        Assert.Equal(new[]
        {
            "model.fc1.bias", "model.fc1.weight", "model.fc2.bias", "model.fc2.weight",
            "optim.momentum_buffer.fc1.bias", "optim.momentum_buffer.fc1.weight", "optim.momentum_buffer.fc2.bias", "optim.momentum_buffer.fc2.weight",
        }, names);
        var info = checkpoint.Info;
        Assert.Equal((11L, 64L, "tiny-mlp:20-16-3", 1), (info.Seed, info.TrainCount, info.ModelSpec, info.Metrics.Count));
        Assert.Equal(10, info.Config.BatchSize);
        Assert.Equal(2, info.Progress.ObjectiveCount);
        Assert.Equal(SgdRecipe.Describe(), info.Recipe);
        Assert.NotEmpty(Convert.FromBase64String(info.RngState));
    }

    [Fact]
    public void StopsWhenTheTrainLossIsReachedAndReportsTheGap()
    {
        using var train = TinyData.Make(64, seed: 2);
        using var test = TinyData.Make(30, seed: 3);
        using var model = new TinyMlp(dropout: 0, seed: 1);
        var config = Config(500) with { StopAtTrainLoss = 0.2 };
        var result = new Trainer(Recipe.Adam(0.02), config).Run(model, train, test);

        Assert.Equal(StopReason.ReachedTrainLoss, result.StopReason);
        Assert.True(result.Epochs.Count < 500);
        Assert.True(result.Final.TrainLoss <= 0.2);
        Assert.True(result.Epochs[^2].TrainLoss > 0.2);
        var measured = Evaluation.Evaluate(model, train);
        Assert.Equal(measured.Loss, result.Final.TrainLoss);
        var f = result.Final;
        Assert.Equal(f.TestLoss - f.TrainLoss, f.Gap);
        Assert.Equal(f.TrainAccuracy - f.TestAccuracy, f.AccuracyGap);
        Assert.Equal(result.Epochs.Count * 7L, result.Steps);
    }

    [Fact]
    public void ANaNLossThrowsBeforeTheUpdateAndIsNeverCheckpointed()
    {
        var path = Path.Combine(_dir, "nan.safetensors");
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1) { PoisonAfterCalls = 5 };
        var config = Config(2) with { CheckpointPath = path, CheckpointEveryBatches = 1 };
        var e = Assert.Throws<DivergenceException>(() => new Trainer(SgdRecipe, config).Run(model, train));
        Assert.Equal($"loss became NaN at epoch 1, batch 6; last checkpoint: {path}", e.Message);

        using var checkpoint = Checkpoint.Load(path);
        Assert.Equal(5L, checkpoint.Info.Step);
        var saved = checkpoint.Section(Checkpoint.ModelPrefix);
        foreach (var (name, t) in model.state_dict())
        {
            Assert.True(t.isfinite().all().item<bool>(), $"{name} was updated with the NaN loss");
            TensorAssert.BitIdentical(saved[name], t, name);
        }
    }

    [Fact]
    public void ANaNAtTheFirstBatchWritesNoCheckpoint()
    {
        var path = Path.Combine(_dir, "nan0.safetensors");
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        using (no_grad()) model.Head.weight![0, 0] = double.NaN;
        var e = Assert.Throws<DivergenceException>(() => new Trainer(SgdRecipe, Config(1) with { CheckpointPath = path, CheckpointEveryBatches = 1 }).Run(model, train));
        Assert.Equal("loss became NaN at epoch 1, batch 1; last checkpoint: none", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ACheckpointOfAnotherModelShapeIsRejected()
    {
        var path = RunAndCancel(SgdRecipe, Config(2), 3, out _);
        using var train = TinyData.Make(64, seed: 2);
        using var other = new TinyMlp(hidden: 8, seed: 1);
        // Checked by the one copy every checkpoint and weights file goes through (Weights.CopyInto; a DataFormatException).
        var e = Assert.ThrowsAny<BasinException>(() =>
            new Trainer(SgdRecipe, Config(2) with { CheckpointPath = path, Resume = true }).Run(other, train));
        Assert.Contains("does not fit model", e.Message);
        Assert.Contains("fc1.weight has shape [16,20], model expects [8,20]", e.Message);

        using var same = new TinyMlp(seed: 1);
        var seed = Assert.Throws<BasinException>(() => new Trainer(SgdRecipe, Config(2) with { Seed = 12, CheckpointPath = path, Resume = true }).Run(same, train));
        Assert.Contains("seed 11, not 12", seed.Message);
    }

    [Fact]
    public void ReportsEveryBatchEpochAndCheckpoint()
    {
        var path = Path.Combine(_dir, "events.safetensors");
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        var events = new List<TrainingEvent>();
        var config = Config(2) with { CheckpointPath = path, CheckpointEveryBatches = 4, EvaluateEveryEpoch = false };
        var result = new Trainer(SgdRecipe, config).Run(model, train, null, new Callback<TrainingEvent>(events.Add));

        Assert.Equal(Enumerable.Range(1, 7).Concat(Enumerable.Range(1, 7)), events.OfType<BatchDone>().Select(b => b.Batch));
        Assert.All(events.OfType<BatchDone>(), b => Assert.Equal(7, b.Of));
        // Every 4 updates (steps 4, 8, 12) and at both epoch ends.
        Assert.Equal(new long[] { 4, 7, 8, 12, 14 }, events.OfType<CheckpointWritten>().Select(c => c.Step));
        Assert.False(result.Epochs[0].Evaluated);
        Assert.True(double.IsNaN(result.Epochs[0].TrainLoss));
        Assert.True(result.Epochs[1].Evaluated);
        Assert.Null(result.Final.Gap);
        Assert.Equal(path, result.CheckpointPath);
    }

    [Fact]
    public void ResumingAFinishedRunReturnsItAndMoreEpochsContinueIt()
    {
        var path = Path.Combine(_dir, "done.safetensors");
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        var first = new Trainer(SgdRecipe, Config(1) with { CheckpointPath = path }).Run(model, train);

        var events = new List<TrainingEvent>();
        using var again = new TinyMlp(seed: 5);
        var same = new Trainer(SgdRecipe, Config(1) with { CheckpointPath = path, Resume = true }).Run(again, train, null, new Callback<TrainingEvent>(events.Add));
        Assert.Equal(StopReason.Completed, same.StopReason);
        Assert.Empty(events.OfType<BatchDone>());
        Assert.Equal(first.Final, same.Final);
        AssertSameWeights(model, again);

        var longer = new Trainer(SgdRecipe, Config(2) with { CheckpointPath = path, Resume = true }).Run(again, train);
        Assert.Equal(2, longer.Epochs.Count);
        Assert.Equal(14L, longer.Steps);
    }

    [Fact]
    public void CancellingWithoutACheckpointPathStillStops()
    {
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var e = Assert.ThrowsAny<OperationCanceledException>(() => new Trainer(SgdRecipe, Config(1)).Run(model, train, null, null, cts.Token));
        Assert.Contains("no checkpoint path", e.Message);
    }
}
