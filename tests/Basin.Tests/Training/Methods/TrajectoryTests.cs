using Basin.Data;
using Basin.Models;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

/// <summary>SAF's memory bank and MESA's moving average, through the real trainer (shuffled batches).</summary>
[Collection("torch global generator")]
public sealed class TrajectoryTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("basin-methods-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static TrainingConfig Config(int epochs) => new(epochs, BatchSize: 8, Seed: 5) { Threads = 1, EvaluateEveryEpoch = false };

    static Recipe WithTerm(IObjectiveTerm term) => Recipe.Sgd(0.1, momentum: 0.5).With(term);

    [Fact]
    public void SafComparesEachExampleWithTheLogitsItHadLagEpochsEarlierUnderShuffling()
    {
        using var data = TinyData.Make(36, seed: 2);
        using var model = new TinyMlp(dropout: 0, seed: 1);
        var saf = new Saf(startEpoch: 3, lambda: 0.5, tau: 2, lag: 2);
        var recording = new Recording(saf);
        new Trainer(WithTerm(recording), Config(5)).Run(model, data);

        // logits[epoch][example] as the forward passes produced them
        var seen = new Dictionary<(int, long), Tensor>();
        foreach (var (position, indices, logits, _) in recording.Calls)
        {
            var idx = indices.data<long>().ToArray();
            for (int r = 0; r < idx.Length; r++) seen[(position.Epoch, idx[r])] = logits[r];
        }
        Assert.Equal(5 * 36, seen.Count);
        var orderEpoch0 = recording.Calls.Where(c => c.Position.Epoch == 0).SelectMany(c => c.Indices.data<long>().ToArray()).ToArray();
        var orderEpoch3 = recording.Calls.Where(c => c.Position.Epoch == 3).SelectMany(c => c.Indices.data<long>().ToArray()).ToArray();
        Assert.NotEqual(orderEpoch0, orderEpoch3);   // shuffled: a positional bank would read the wrong examples

        foreach (var (position, indices, logits, value) in recording.Calls)
        {
            if (position.Epoch < 3)
            {
                Assert.Equal(0.0, value);
                continue;
            }
            var reference = stack(indices.data<long>().ToArray().Select(i => seen[(position.Epoch - 2, i)]).ToArray());
            double expected = TrajectoryLoss.Compute(logits, reference, 0.5, 2).ToDouble();
            Assert.True(expected > 0);
            Assert.Equal(expected, value, 1e-6);
        }
        // The bank's slot for the last epoch (4 mod 3) holds that epoch's logits, row by dataset index.
        for (long i = 0; i < 36; i++) TensorAssert.BitIdentical(seen[(4, i)], saf.Bank![i, 1], $"bank row {i}");
    }

    [Fact]
    public void SafResumesExactlyFromACheckpointedBank()
    {
        using var data = TinyData.Make(36, seed: 2);
        Saf Fresh() => new(lambda: 0.5, tau: 2, lag: 1, startEpoch: 1);
        using var straight = new TinyMlp(dropout: 0, seed: 1);
        new Trainer(WithTerm(Fresh()), Config(4)).Run(straight, data);

        var path = Path.Combine(_dir, "saf.safetensors");
        using var interrupted = new TinyMlp(dropout: 0, seed: 1);
        using var cts = new CancellationTokenSource();
        var stop = new Callback<TrainingEvent>(e => { if (e is BatchDone { Step: 12 }) cts.Cancel(); });   // mid-epoch 3 (5 batches per epoch)
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(WithTerm(Fresh()), Config(4) with { CheckpointPath = path }).Run(interrupted, data, null, stop, cts.Token));
        using var resumed = new TinyMlp(dropout: 0, seed: 9);
        new Trainer(WithTerm(Fresh()), Config(4) with { CheckpointPath = path, Resume = true }).Run(resumed, data);

        foreach (var (name, t) in straight.state_dict()) TensorAssert.BitIdentical(t, resumed.state_dict()[name], name);
    }

    [Fact]
    public void MesaResumesExactlyFromACheckpointedAverage()
    {
        using var data = TinyData.Make(36, seed: 2);
        Mesa Fresh() => new(decay: 0.7, lambda: 0.8, tau: 2, startEpoch: 1, teacher: (_, _) => new TinyMlp(dropout: 0, seed: 3));
        using var straight = new TinyMlp(dropout: 0, seed: 1);
        new Trainer(WithTerm(Fresh()), Config(3)).Run(straight, data);

        var path = Path.Combine(_dir, "mesa.safetensors");
        using var interrupted = new TinyMlp(dropout: 0, seed: 1);
        using var cts = new CancellationTokenSource();
        var stop = new Callback<TrainingEvent>(e => { if (e is BatchDone { Step: 8 }) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(WithTerm(Fresh()), Config(3) with { CheckpointPath = path }).Run(interrupted, data, null, stop, cts.Token));
        using var resumed = new TinyMlp(dropout: 0, seed: 9);
        new Trainer(WithTerm(Fresh()), Config(3) with { CheckpointPath = path, Resume = true }).Run(resumed, data);

        foreach (var (name, t) in straight.state_dict()) TensorAssert.BitIdentical(t, resumed.state_dict()[name], name);
    }

    [Fact]
    public void SafNeedsDatasetIndicesAndAFittingBank()
    {
        using var data = TinyData.Make(6, seed: 2);
        using var model = new TinyMlp(dropout: 0, seed: 1);
        var saf = new Saf(startEpoch: 0, lag: 1);
        var noIndices = new Batch(data.Inputs, data.Labels, zeros(0, dtype: ScalarType.Int64));
        var e = Assert.Throws<BasinException>(() => new Objective([saf]).Evaluate(model, NamedParameter.Of(model), noIndices, default, data.Count));
        Assert.Contains("index", e.Message);
        var outside = new Batch(data.Inputs, data.Labels, arange(6, 12, dtype: ScalarType.Int64));
        Assert.Contains("training set has 6", Assert.Throws<BasinException>(() => new Objective([saf]).Evaluate(model, NamedParameter.Of(model), outside, default, data.Count)).Message);

        var other = new Saf(startEpoch: 0, lag: 2);
        var state = new Dictionary<string, Tensor> { ["bank"] = zeros(6, 2, 3), ["epochs"] = zeros([6, 2], ScalarType.Int64), ["steps"] = zeros([6], ScalarType.Int64) };
        Assert.Contains("Ẽ = 2", Assert.Throws<BasinException>(() => other.LoadState(state)).Message);
        Assert.Throws<BasinException>(() => new Saf(startEpoch: 0, lambda: -1));
        Assert.Throws<BasinException>(() => new Saf(startEpoch: 0, tau: 0));
    }

    [Fact]
    public void MesaTeacherIsTheMovingAverageOfTheWeightsEachStepStartedFrom()
    {
        using var data = TinyData.Make(24, seed: 2);
        using var model = new TinyMlp(dropout: 0, seed: 1);
        var spy = new Spy();
        var mesa = new Mesa(decay: 0.6, startEpoch: 1, lambda: 0.8, tau: 3, teacher: (_, _) => new TinyMlp(dropout: 0, seed: 3));
        var recording = new Recording(mesa);
        new Trainer(Recipe.Sgd(0.1).With(spy).With(recording), Config(3)).Run(model, data);

        var names = NamedParameter.Of(model).Select(p => p.Name).ToArray();
        Tensor[]? ema = null;
        foreach (var call in spy.Calls)
            ema = ema is null ? call.Weights.Select(w => w.clone()).ToArray() : ema.Zip(call.Weights, (a, w) => a.mul(0.6).add(w, 0.4)).ToArray();
        for (int i = 0; i < names.Length; i++)
            Assert.True(MethodFixtures.MaxAbsDiff(ema![i], mesa.Average![names[i]]) < 1e-6, names[i]);

        // The last step's term: the trajectory loss against the teacher holding that average.
        using var teacher = new TinyMlp(dropout: 0, seed: 3);
        using (no_grad())
            foreach (var (name, t) in teacher.named_parameters()) t.copy_(mesa.Average![name]);
        var last = recording.Calls[^1];
        var inputs = data.Inputs.index_select(0, last.Indices);
        using var _ = no_grad();
        double expected = TrajectoryLoss.Compute(last.Logits, teacher.forward(inputs), 0.8, 3).ToDouble();
        Assert.Equal(expected, last.Value, 1e-6);
        Assert.All(recording.Calls.Where(c => c.Position.Epoch == 0), c => Assert.Equal(0.0, c.Value));
    }
}
