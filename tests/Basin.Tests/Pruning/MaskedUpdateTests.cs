using Basin.Pruning;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pruning;

/// <summary>A mask stays applied through every update rule, in checkpoints and across a resume.</summary>
[Collection("torch global generator")]
public sealed class MaskedUpdateTests : IDisposable
{
    /// <summary>Held for the whole run: a temporary Scalar could be freed during the native call.</summary>
    static readonly TorchSharp.Scalar Zero = 0.ToScalar();

    readonly string _dir = Directory.CreateTempSubdirectory("basin-mask-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 64 examples in batches of 10: 7 updates per epoch; 15 epochs are 105 updates.
    static TrainingConfig Config(int epochs) => new(epochs, BatchSize: 10, Seed: 5) { Threads = 1, EvaluateEveryEpoch = false };

    /// <summary>Every update rule Basin has, each with the state that could revive a pruned weight (momentum, moments, noise, decay).</summary>
    public static TheoryData<string> Rules => ["sgd-momentum", "sgd-nesterov", "adam", "sgld"];

    static Recipe RecipeFor(string rule) => rule switch
    {
        "sgd-momentum" => Recipe.Sgd(0.05, momentum: 0.9, weightDecay: 1e-3),
        "sgd-nesterov" => Recipe.Sgd(0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
        "adam" => Recipe.Adam(0.01, weightDecay: 1e-3),
        "sgld" => Recipe.Sgd(1e-4, weightDecay: 1e-3) with { Update = new Sgld(Temperature: 1, DatasetSize: 64) },
        _ => throw new ArgumentException(rule),
    };

    /// <summary>A random half of fc1.weight, fc1.bias and fc2.weight pruned (fc2.bias not covered).</summary>
    static PruningMask HalfMask(TinyMlp model)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        using var half = 0.5.ToScalar();
        var keep = new Dictionary<string, Tensor>();
        foreach (var p in NamedParameter.Of(model).Where(p => p.Name != "fc2.bias"))
            keep[p.Name] = rand(p.Value.shape, generator: g).lt(half).to(ScalarType.Float32);
        using var dense = PruningMask.Dense(NamedParameter.Of(model).Where(p => p.Name != "fc2.bias"));
        return dense.With(keep);
    }

    static long PrunedNonZero(TinyMlp model, PruningMask mask)
    {
        long count = 0;
        foreach (var p in NamedParameter.Of(model).Where(p => mask.Covers(p.Name)))
        {
            using var pruned = mask.Keep(p.Name).eq(Zero);
            using var nonzero = p.Value.detach().ne(Zero).logical_and(pruned).sum();
            count += nonzero.ToInt64();
        }
        return count;
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void PrunedWeightsStayExactlyZeroThroughAHundredUpdates(string rule)
    {
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        using var mask = HalfMask(model);
        var before = NamedParameter.Of(model).ToDictionary(p => p.Name, p => p.Value.detach().clone());
        var recipe = RecipeFor(rule) is var r ? r with { Update = new MaskedUpdate(r.Update, mask) } : null!;
        var path = Path.Combine(_dir, $"{rule}.safetensors");
        var result = new Trainer(recipe, Config(15) with { CheckpointPath = path }).Run(model, train);

        Assert.Equal(105, result.Steps);
        Assert.Equal(0, PrunedNonZero(model, mask));
        // The alive weights did train, and the uncovered bias is untouched by the mask.
        foreach (var p in NamedParameter.Of(model))
        {
            using var moved = p.Value.detach().ne(before[p.Name]).sum();
            Assert.True(moved.ToInt64() > 0, $"{rule}: {p.Name} never moved");
        }
        using var fc2Bias = NamedParameter.Of(model).Single(p => p.Name == "fc2.bias").Value.detach().ne(Zero).all();
        Assert.True(fc2Bias.item<bool>());
        // The optimizer's per-weight state of pruned entries is exactly 0 too (momentum buffers, Adam's moments).
        using var checkpoint = Checkpoint.Load(path);
        int stateTensors = 0;
        foreach (var (key, t) in checkpoint.Section(Checkpoint.OptimizerPrefix))
        {
            if (key.StartsWith(MaskedUpdate.StatePrefix, StringComparison.Ordinal))
            {
                TensorAssert.BitIdentical(mask.Keep(key[MaskedUpdate.StatePrefix.Length..]), t, key);
                continue;
            }
            var name = mask.Names.FirstOrDefault(n => key.EndsWith("." + n, StringComparison.Ordinal));
            if (name is null || t.dim() == 0) continue;
            stateTensors++;
            using var pruned = mask.Keep(name).eq(Zero);
            using var nonzero = t.ne(Zero).logical_and(pruned).sum();
            Assert.True(nonzero.ToInt64() == 0, $"{rule}: {key} holds state for pruned entries");
        }
        Assert.Equal(rule switch { "sgld" => 0, "adam" => 6, _ => 3 }, stateTensors);
        Assert.Equal(3, checkpoint.Section(Checkpoint.OptimizerPrefix + MaskedUpdate.StatePrefix).Count);
        foreach (var t in before.Values) t.Dispose();
    }

    [Theory]
    [InlineData("sgd-nesterov")]
    [InlineData("adam")]
    public void AResumedRunKeepsTheCheckpointsMaskBitForBit(string rule)
    {
        using var train = TinyData.Make(64, seed: 2);
        using var straight = new TinyMlp(seed: 1);
        using var mask = HalfMask(straight);
        var recipe = RecipeFor(rule) with { Update = new MaskedUpdate(RecipeFor(rule).Update, mask) };
        new Trainer(recipe, Config(3)).Run(straight, train);

        var path = Path.Combine(_dir, $"resume-{rule}.safetensors");
        using var cts = new CancellationTokenSource();
        using (var first = new TinyMlp(seed: 1))
        {
            var cancelAfter10 = new Callback<TrainingEvent>(e => { if (e is BatchDone { Step: 10 }) cts.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer(recipe, Config(3) with { CheckpointPath = path }).Run(first, train, null, cancelAfter10, cts.Token));
        }

        // The resuming process is given a dense mask over the same parameters: the checkpoint's mask must win.
        using var resumed = new TinyMlp(seed: 99);
        using var dense = PruningMask.Dense(NamedParameter.Of(resumed).Where(p => p.Name != "fc2.bias"));
        var resumedRecipe = RecipeFor(rule) with { Update = new MaskedUpdate(RecipeFor(rule).Update, dense) };
        manual_seed(12345);
        new Trainer(resumedRecipe, Config(3) with { CheckpointPath = path, Resume = true }).Run(resumed, train);

        var e = straight.state_dict();
        foreach (var (name, t) in resumed.state_dict()) TensorAssert.BitIdentical(e[name], t, name);
        Assert.Equal(0, PrunedNonZero(resumed, mask));
        using var checkpoint = Checkpoint.Load(path);
        foreach (var (name, keep) in checkpoint.Section(Checkpoint.OptimizerPrefix + MaskedUpdate.StatePrefix))
            TensorAssert.BitIdentical(mask.Keep(name), keep, name);
    }

    [Fact]
    public void ACheckpointMaskOverOtherParametersIsRefused()
    {
        using var train = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        using var mask = HalfMask(model);
        var path = Path.Combine(_dir, "other.safetensors");
        new Trainer(Recipe.Sgd(0.05, momentum: 0.9) with { Update = new MaskedUpdate(new Sgd(0.9), mask) }, Config(1) with { CheckpointPath = path }).Run(model, train);
        using var onlyFc1 = PruningMask.Dense(NamedParameter.Of(model).Where(p => p.Name == "fc1.weight"));
        var recipe = Recipe.Sgd(0.05, momentum: 0.9) with { Update = new MaskedUpdate(new Sgd(0.9), onlyFc1) };
        var e = Assert.Throws<BasinException>(() => new Trainer(recipe, Config(2) with { CheckpointPath = path, Resume = true }).Run(model, train));
        Assert.Contains("pruning mask covers [fc1.bias, fc1.weight, fc2.weight]", e.Message);
    }

    [Fact]
    public void SparsityIsCountedPerLayerAndGlobally()
    {
        using var model = new TinyMlp(seed: 1);   // fc1.weight 16x20, fc1.bias 16, fc2.weight 3x16
        using var dense = PruningMask.Dense(NamedParameter.Of(model).Where(p => !p.IsBias));
        using var fc1 = zeros(16, 20);
        using var one = 1.0.ToScalar();
        using var columns = tensor(new long[] { 0, 1, 2, 3, 4 });
        fc1.index_fill_(1, columns, one);
        using var mask = dense.With("fc1.weight", fc1);
        var report = mask.Sparsity();
        Assert.Equal(new[] { new LayerSparsity("fc1.weight", 320, 240), new LayerSparsity("fc2.weight", 48, 0) }, report.Layers);
        Assert.Equal((368L, 240L, 240.0 / 368), (report.Total, report.Pruned, report.Global));
        Assert.Equal(0.75, report.Layers[0].Sparsity);

        var file = Path.Combine(_dir, "mask.safetensors");
        mask.Save(file);
        using var loaded = PruningMask.Load(file);
        Assert.Equal(mask.Names, loaded.Names);
        TensorAssert.BitIdentical(mask.Keep("fc1.weight"), loaded.Keep("fc1.weight"));
        using var half = full(2, 2, 0.5f);
        Assert.Contains("other than 0 and 1", Assert.Throws<BasinException>(() => PruningMask.From([new("w", half)])).Message);
    }
}
