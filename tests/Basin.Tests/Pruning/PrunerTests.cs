using Basin.Models;
using Basin.Pruning;
using Basin.Tests.Training;
using Basin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pruning;

/// <summary>Magnitude, random and AP selection on hand-made weights, and iterative pruning's counts and rewinds.</summary>
public sealed class PrunerTests
{
    // a: |w| = 0.5 0.1 0.3 0.3 0.05 0.9 (flat 0..5); b: |w| = 0.3 0.2 0.01 0.7 (flat 6..9).
    static NamedParameter[] HandWeights() =>
    [
        new("a", tensor(new[] { 0.5, -0.1, 0.3, -0.3, 0.05, 0.9 }).reshape(2, 3)),
        new("b", tensor(new[] { -0.3, 0.2, 0.01, -0.7 }).reshape(2, 2)),
    ];

    static float[] Flat(PruningMask mask, string name) => mask.Keep(name).flatten().data<float>().ToArray();

    [Theory]
    [InlineData(0, 20, null, false, "rounds", "rounds must be at least 1, got 0")]
    [InlineData(2, 100, null, false, "rate", "rate must be a percentage in (0, 100), got 100")]
    [InlineData(2, 20, 20.0, false, "apRate", "apRate must be a percentage in (0, rate) = (0, 20), got 20")]
    [InlineData(2, 20, 2.0, true, "layerwise", "layerwise: AP ranks globally; it cannot be combined with layer-wise pruning")]
    public void IterativeSettingsAreCheckedWhenBuilt(int rounds, double rate, double? ap, bool layerwise, string key, string message)
    {
        var e = Assert.Throws<OptionException>(() => new IterativeSettings(rounds, rate, ap, Layerwise: layerwise));
        Assert.Equal((key, message), (e.Parameter, e.Message));
    }

    [Fact]
    public void GlobalMagnitudeRemovesExactlyTheSmallestWithTiesToTheLowerIndex()
    {
        var w = HandWeights();
        using var dense = PruningMask.Dense(w);
        // s = 0.5 of 10: the five smallest are 0.01 (b2), 0.05 (a4), 0.1 (a1), 0.2 (b1), then the tie 0.3 (a2, a3, b0) goes to a2.
        using var half = MagnitudePruning.ToSparsity(dense, w, 0.5);
        Assert.Equal(new float[] { 1, 0, 0, 1, 0, 1 }, Flat(half, "a"));
        Assert.Equal(new float[] { 1, 0, 0, 1 }, Flat(half, "b"));
        Assert.Equal(5, half.Sparsity().Pruned);
        // s = 0.4: ⌊4⌋ globally, but ⌊2.4⌋ = 2 of a and ⌊1.6⌋ = 1 of b layer-wise.
        using var global = MagnitudePruning.ToSparsity(dense, w, 0.4);
        Assert.Equal(new float[] { 1, 0, 1, 1, 0, 1 }, Flat(global, "a"));
        Assert.Equal(new float[] { 1, 0, 0, 1 }, Flat(global, "b"));
        using var layerwise = MagnitudePruning.ToSparsity(dense, w, 0.4, layerwise: true);
        Assert.Equal(new float[] { 1, 0, 1, 1, 0, 1 }, Flat(layerwise, "a"));
        Assert.Equal(new float[] { 1, 1, 0, 1 }, Flat(layerwise, "b"));
        // A mask already sparser than asked stays as it is; pruned entries are never revived.
        using var lower = MagnitudePruning.ToSparsity(half, w, 0.2);
        Assert.Equal(Flat(half, "a"), Flat(lower, "a"));
        Assert.Contains("sparsity must be in [0, 1), got 1", Assert.Throws<OptionException>(() => MagnitudePruning.ToSparsity(dense, w, 1)).Message);
        Assert.Throws<OptionException>(() => MagnitudePruning.ToSparsity(dense, w, -0.1));
    }

    [Fact]
    public void GlobalMagnitudeOnRandomWeightsSeparatesPrunedFromAlive()
    {
        using var g = new Generator(3);
        var w = new NamedParameter[] { new("x", randn(new long[] { 30, 20 }, generator: g)), new("y", randn(new long[] { 7, 13 }, generator: g)) };
        using var dense = PruningMask.Dense(w);
        using var mask = MagnitudePruning.ToSparsity(dense, w, 0.9);
        Assert.Equal((long)Math.Floor(0.9m * 691), mask.Sparsity().Pruned);
        var pruned = new List<double>();
        var alive = new List<double>();
        foreach (var p in w)
        {
            var values = p.Value.flatten().data<float>().ToArray();
            var keep = Flat(mask, p.Name);
            for (int i = 0; i < values.Length; i++) (keep[i] == 0 ? pruned : alive).Add(Math.Abs(values[i]));
        }
        Assert.True(pruned.Max() <= alive.Min());
    }

    [Fact]
    public void IterativeRoundsRemoveTheFloorOfPOfTheAliveCount()
    {
        var w = new NamedParameter[] { new("x", ones(10, 10)), new("y", ones(3, 9)) };   // all ties: lowest flat indices go first
        var mask = PruningMask.Dense(w);
        long alive = 127;
        for (int round = 1; round <= 8; round++)
        {
            var next = MagnitudePruning.Round(mask, w, 20);
            mask.Dispose();
            mask = next;
            alive -= (long)Math.Floor(0.2m * alive);
            Assert.Equal(alive, mask.Sparsity().Alive);
        }
        Assert.Equal(23, alive);
        // The ties went by flat index: x is emptied first (100 entries), so 23 alive are all in y, at its end.
        Assert.Equal(100, mask.Sparsity().Layers[0].Pruned);
        Assert.Equal(Enumerable.Repeat(0f, 4).Concat(Enumerable.Repeat(1f, 23)), Flat(mask, "y"));
        mask.Dispose();
    }

    [Fact]
    public void RandomMasksPruneExactCountsPerLayerAndFollowTheSeed()
    {
        var w = new NamedParameter[] { new("x", ones(10, 10)), new("y", ones(3, 9)) };
        using var dense = PruningMask.Dense(w);
        using var a = RandomPruning.ToSparsity(dense, 0.75, seed: 4);
        using var b = RandomPruning.ToSparsity(dense, 0.75, seed: 4);
        using var c = RandomPruning.ToSparsity(dense, 0.75, seed: 5);
        Assert.Equal(new long[] { 75, 20 }, a.Sparsity().Layers.Select(l => l.Pruned));
        Assert.Equal(Flat(a, "x"), Flat(b, "x"));
        Assert.NotEqual(Flat(a, "x"), Flat(c, "x"));

        using var reference = MagnitudePruning.ToSparsity(dense, w, 0.5);   // all ties: x loses 63, y none
        using var like = RandomPruning.LikeLayers(dense, reference, seed: 1);
        Assert.Equal(reference.Sparsity().Layers.Select(l => l.Pruned), like.Sparsity().Layers.Select(l => l.Pruned));
        Assert.Equal(new long[] { 63, 0 }, like.Sparsity().Layers.Select(l => l.Pruned));
    }

    [Fact]
    public void ApRemovesTheNegativeWeightsThatMovedLeast()
    {
        // The hand case: all 8 alive, P = 50 %, q = 25 %.
        var start = new[] { 0.5, -0.2, -0.3, 0.1, -0.05, 0.4, -0.6, 0.02 };
        var end = new[] { 0.6, -0.25, -0.1, 0.05, -0.5, 0.41, -0.61, 0.01 };
        using var dense = PruningMask.Dense([new NamedParameter("w", zeros(8, dtype: ScalarType.Float64))]);
        using var tEnd = tensor(end);
        using var tStart = tensor(start);
        var (mask, counts) = ActivatePruning.Round(dense, new Dictionary<string, Tensor> { ["w"] = tEnd }, new Dictionary<string, Tensor> { ["w"] = tStart }, 50, 25);
        // Base: ⌊0.25·8⌋ = 2 smallest |w_end|: 7 (0.01) and 3 (0.05). AP: of the negatives left, Δ = 0.05 (1), 0.2 (2), 0.45 (4),
        // 0.01 (6): it takes 6 and 1.
        Assert.Equal(new float[] { 1, 0, 1, 0, 1, 1, 0, 0 }, Flat(mask, "w"));
        Assert.Equal(new ApRoundCounts(8, 2, 2, 2, 4), counts);
        Assert.False(counts.ApShort);
        mask.Dispose();

        // Fewer negatives alive than AP's share: AP removes them all and says so.
        var (removed, few) = ActivatePruning.Select([0.1, 0.2, -0.3, 0.4, 0.5, 0.6, 0.7, 0.8], new double[8], Enumerable.Repeat(true, 8).ToArray(), 50, 25);
        Assert.Equal(new[] { 0, 1, 2 }, removed);
        Assert.Equal(new ApRoundCounts(8, 2, 1, 2, 1), few);
        Assert.True(few.ApShort);
        Assert.Throws<OptionException>(() => ActivatePruning.Round(dense, new Dictionary<string, Tensor> { ["w"] = tEnd }, new Dictionary<string, Tensor> { ["w"] = tStart }, 20, 20));
    }

    [Fact]
    public void IterativePruningRewindsAliveWeightsToTheRewindPointBitForBit()
    {
        using var model = new TinyMlp(dropout: 0, seed: 1);
        using var theta0 = WeightSnapshot.OfState(model);
        using var initial = Prunable.DenseMask(model);   // fc1.weight 16x20 and fc2.weight 3x16: 368 entries
        using var one = 0.01.ToScalar();
        void Perturb()
        {
            using var _ = no_grad();
            foreach (var p in NamedParameter.Of(model)) p.Value.add_(randn_like(p.Value), one);
        }
        Perturb();   // "trained"
        var alive = new List<long>();
        foreach (var rewind in new[] { Rewind.Weights, Rewind.LearningRate })
        {
            theta0.CopyInto(model);
            Perturb();
            using var start = WeightSnapshot.OfState(model);
            var trainedBefore = new Dictionary<string, Tensor>();
            IterativePruning.Run(model, initial, theta0, theta0, new IterativeSettings(3, 20, Rewind: rewind), round =>
            {
                foreach (var (name, t) in model.state_dict())
                {
                    // After the rewind: alive weights are θ₀'s (weight rewinding) or the trained ones (learning-rate rewinding), pruned are 0.
                    var expected = rewind == Rewind.Weights ? theta0.State[name] : trainedBefore.GetValueOrDefault(name, start.State[name]);
                    if (round.Mask.Covers(name))
                    {
                        using var masked = expected.mul(round.Mask.Keep(name));
                        TensorAssert.BitIdentical(masked, t, $"{rewind} round {round.Round} {name}");
                    }
                    else TensorAssert.BitIdentical(expected, t, $"{rewind} round {round.Round} {name}");
                }
                alive.Add(round.Sparsity.Alive);
                Perturb();   // this round's "training"
                foreach (var t in trainedBefore.Values) t.Dispose();
                trainedBefore = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            });
        }
        Assert.Equal(new long[] { 295, 236, 189, 295, 236, 189 }, alive);
    }

    [Fact]
    public void NodePruningEqualsTheNarrowerNetworkBuiltByHand()
    {
        // Sigmoid: a removed unit would output 0.5, so its outgoing column must be zeroed too for the equality to hold.
        using var model = new Mlp(12, [8, 6], 4, Activation.Sigmoid);
        using var g = new Generator(9);
        using var x = randn(new long[] { 5, 12 }, generator: g);
        foreach (var seed in new long?[] { null, 3 })
        {
            using var copy = new Mlp(12, [8, 6], 4, Activation.Sigmoid);
            copy.load_state_dict(model.state_dict());
            var (mask, sparsity) = NodePruning.ToSparsity(copy, 0.5, seed);
            Assert.Equal(new UnitsKept[] { new("fc1", 8, 4), new("fc2", 6, 3) }, sparsity.Layers);
            Assert.Equal(7.0 / 14, sparsity.Global, 12);
            mask.ApplyTo(copy);
            // Which units stayed: those whose fc1/fc2 bias mask is 1.
            var kept1 = Flat(mask, "fc1.bias").Select((k, i) => (k, i)).Where(t => t.k == 1).Select(t => (long)t.i).ToArray();
            var kept2 = Flat(mask, "fc2.bias").Select((k, i) => (k, i)).Where(t => t.k == 1).Select(t => (long)t.i).ToArray();
            Assert.Equal((4, 3), (kept1.Length, kept2.Length));
            using var narrow = new Mlp(12, [4, 3], 4, Activation.Sigmoid);
            var s = model.state_dict();
            var n = narrow.state_dict();
            using (no_grad())
            {
                using var i1 = tensor(kept1);
                using var i2 = tensor(kept2);
                n["fc1.weight"].copy_(s["fc1.weight"].index_select(0, i1));
                n["fc1.bias"].copy_(s["fc1.bias"].index_select(0, i1));
                n["fc2.weight"].copy_(s["fc2.weight"].index_select(0, i2).index_select(1, i1));
                n["fc2.bias"].copy_(s["fc2.bias"].index_select(0, i2));
                n["fc3.weight"].copy_(s["fc3.weight"].index_select(1, i2));
                n["fc3.bias"].copy_(s["fc3.bias"]);
            }
            using var expected = narrow.forward(x);
            using var actual = copy.forward(x);
            Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6), $"criterion {(seed is null ? "norm" : "random")}");
            // Parameter sparsity: of 96 + 48 + 24 = 168 weights, 4·12 + (48 − 3·4) + 3·4 = 96 are pruned.
            Assert.Equal(96.0 / 168, sparsity.ParameterSparsity, 12);
            mask.Dispose();
        }
        using var resnet = ModelSpec.Create("resnet", [1, 28, 28], 10, seed: 1);
        Assert.Contains("no prunable layer for node pruning", Assert.Throws<BasinException>(() => NodePruning.ToSparsity(resnet, 0.5)).Message);
    }

    [Fact]
    public void NodePruningOfLeNet5RemovesWholeChannelsAndUnits()
    {
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 1);
        using var norms = model.state_dict()["conv1.weight"].detach().square().sum(dim: [1, 2, 3]);
        var largest = norms.data<float>().ToArray().Select((v, i) => (v, i)).OrderByDescending(t => t.v).Take(3).Select(t => t.i).Order().ToArray();
        var (mask, sparsity) = NodePruning.ToSparsity(model, 0.5);
        Assert.Equal(new UnitsKept[] { new("conv1", 6, 3), new("conv2", 16, 8), new("fc1", 120, 60), new("fc2", 84, 42) }, sparsity.Layers);
        // The kept conv1 channels are the three of largest filter norm.
        Assert.Equal(largest, Flat(mask, "conv1.bias").Select((k, i) => (k, i)).Where(t => t.k == 1).Select(t => t.i).ToArray());
        mask.ApplyTo(model);
        // A removed conv2 channel: its bias and its 25 columns of fc1 are all zero; kept channels keep theirs.
        var bias = Flat(mask, "conv2.bias");
        using var fc1 = model.state_dict()["fc1.weight"].detach().abs().reshape(120, 16, 25).sum(dim: [0, 2]);
        var columnMass = fc1.data<float>().ToArray();
        for (int c = 0; c < 16; c++) Assert.Equal(bias[c] == 0, columnMass[c] == 0);
        mask.Dispose();
    }
}
