using Basin.Data;
using Basin.Models;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.PerExample;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

[Collection("torch global generator")]
public class PerExampleTests
{
    static Batch RandomBatch(long[] shape, int classes, long seed)
    {
        using var g = new Generator((ulong)seed);
        var x = rand(shape, generator: g);
        var y = randint(0, classes, [shape[0]], generator: g);
        return new Batch(x, y, arange(shape[0], dtype: ScalarType.Int64));
    }

    [Theory]
    [InlineData("lenet5")]
    [InlineData("mlp:12,7")]
    public void ReplayedPerExampleGradientsEqualAPerExampleBackwardPass(string spec)
    {
        long[] shape = [5, 1, 28, 28];
        using var model = ModelSpec.Create(spec, shape[1..], 10, seed: 3);
        var batch = RandomBatch(shape, 10, seed: 4);
        var fast = PerExampleGradients.Compute(model, batch.Inputs, batch.Labels);
        var exact = PerExampleGradients.Exact(model, batch.Inputs, batch.Labels);
        var parameters = NamedParameter.Of(model);
        Assert.Equal(parameters.Length, fast.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            Assert.Equal([5, .. parameters[i].Value.shape], fast[i].shape);
            double scale = Math.Max(1, exact[i].abs().max().ToDouble());
            Assert.True(MethodFixtures.MaxAbsDiff(fast[i], exact[i]) <= 1e-5 * scale, $"{parameters[i].Name}: {MethodFixtures.MaxAbsDiff(fast[i], exact[i])}");
        }
        // Their mean is the batch gradient of the mean cross-entropy.
        var g = MethodFixtures.Gradient(model, batch, [new CrossEntropy()], 5);
        for (int i = 0; i < parameters.Length; i++) Assert.True(MethodFixtures.MaxAbsDiff(fast[i].mean([0]), g[i]) < 1e-6, parameters[i].Name);
    }

    [Fact]
    public void MCoherenceIsOneForOrthogonalEqualNormGradientsAndMForIdenticalOnes()
    {
        // 4 examples; the gradient is split over two parameters of 3 and 2 coordinates.
        var orthogonalA = tensor(new float[,] { { 2, 0, 0 }, { 0, 2, 0 }, { 0, 0, 2 }, { 0, 0, 0 } });
        var orthogonalB = tensor(new float[,] { { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 2 } });
        Assert.Equal(1.0, MCoherence.Of([orthogonalA, orthogonalB]), 1e-15);
        var row = tensor(new float[] { 0.3f, -1, 2, 0.5f, 7 });
        var identical = row.unsqueeze(0).expand(4, 5);
        Assert.Equal(4.0, MCoherence.Of([identical.narrow(1, 0, 3), identical.narrow(1, 3, 2)]), 1e-12);
        Assert.Throws<BasinException>(() => MCoherence.Of([zeros(3, 2)]));
    }

    [Fact]
    public void WinsorizingWithCZeroIsPlainSgdBitForBit()
    {
        using var data = TinyData.Make(40, seed: 2);
        using var sgd = new TinyMlp(dropout: 0, seed: 1);
        using var winsorized = new TinyMlp(dropout: 0, seed: 1);
        var config = new TrainingConfig(2, 8, 3) { Threads = 1, EvaluateEveryEpoch = false };
        new Trainer(Recipe.Sgd(0.1, momentum: 0.9, weightDecay: 1e-3), config).Run(sgd, data);
        new Trainer(Recipe.Sgd(0.1, momentum: 0.9, weightDecay: 1e-3).With(new Winsorized(0)), config).Run(winsorized, data);
        foreach (var (name, t) in sgd.state_dict()) TensorAssert.BitIdentical(t, winsorized.state_dict()[name], name);
    }

    [Fact]
    public void WinsorizedGradientClipsTheCExtremesPerCoordinateThenAveragesAndAddsTheOtherTerms()
    {
        using var model = ModelSpec.Create("mlp:6", [4], 3, seed: 2);
        var batch = RandomBatch([7, 4], 3, seed: 5);
        IObjectiveTerm[] terms = [new CrossEntropy(), new WeightDecay(0.01)];
        var context = MethodFixtures.Context(model, batch, terms, 7);
        new Winsorized(2).ComputeGradients(context);
        var exact = PerExampleGradients.Exact(model, batch.Inputs, batch.Labels);
        for (int i = 0; i < exact.Length; i++)
        {
            // By hand: per coordinate, sort the 7 values, replace the 2 lowest by the 3rd and the 2 highest by the 5th.
            var flat = exact[i].reshape(7, -1).to_type(ScalarType.Float64);
            var expected = new double[flat.shape[1]];
            for (long k = 0; k < flat.shape[1]; k++)
            {
                var v = flat[.., k].data<double>().ToArray().Order().ToArray();
                for (int j = 0; j < 2; j++) { v[j] = v[2]; v[6 - j] = v[4]; }
                expected[k] = v.Average();
            }
            var p = context.Parameters[i].Value;
            var want = tensor(expected).reshape(p.shape).add(p.detach().to_type(ScalarType.Float64), 0.01);
            Assert.True(MethodFixtures.MaxAbsDiff(want, p.grad!) < 1e-6, context.Parameters[i].Name);
        }
    }

    [Fact]
    public void M3StepsWithTheMedianOfThreeGroupGradients()
    {
        using var model = ModelSpec.Create("mlp:5", [4], 3, seed: 2);
        var batch = RandomBatch([8, 4], 3, seed: 6);
        IObjectiveTerm[] terms = [new CrossEntropy()];
        var context = MethodFixtures.Context(model, batch, terms, 8);
        new M3().ComputeGradients(context);
        var stepped = context.Parameters.Select(p => p.Value.grad!.clone()).ToArray();
        // Groups of 3, 3 and 2 examples.
        Batch Part(long start, long n) => new(batch.Inputs.narrow(0, start, n), batch.Labels.narrow(0, start, n), batch.Indices.narrow(0, start, n));
        var g = new[] { Part(0, 3), Part(3, 3), Part(6, 2) }.Select(b => MethodFixtures.Gradient(model, b, terms, 8)).ToArray();
        for (int i = 0; i < g[0].Length; i++)
        {
            var median = stack([g[0][i], g[1][i], g[2][i]]).sort(0).Values[1];
            TensorAssert.BitIdentical(median, stepped[i], context.Parameters[i].Name);
        }
    }

    [Fact]
    public void Rm3StepsWithTheMedianOfThisAndThePreviousTwoBatchGradients()
    {
        using var model = ModelSpec.Create("mlp:5", [4], 3, seed: 2);
        IObjectiveTerm[] terms = [new CrossEntropy()];
        var rm3 = new Rm3();
        var batches = Enumerable.Range(0, 3).Select(k => RandomBatch([6, 4], 3, seed: 10 + k)).ToArray();
        var plain = batches.Select(b => MethodFixtures.Gradient(model, b, terms, 6)).ToArray();
        GradientContext? last = null;
        for (int k = 0; k < 3; k++)
        {
            last = MethodFixtures.Context(model, batches[k], terms, 6, new TrainingPosition(0, k, k));
            rm3.ComputeGradients(last);
            if (k < 2)
                for (int i = 0; i < plain[k].Length; i++) TensorAssert.BitIdentical(plain[k][i], last.Parameters[i].Value.grad!);
        }
        for (int i = 0; i < plain[0].Length; i++)
            TensorAssert.BitIdentical(stack([plain[0][i], plain[1][i], plain[2][i]]).sort(0).Values[1], last!.Parameters[i].Value.grad!);
        // The two earlier gradients are its state.
        Assert.Equal(2 * plain[0].Length, rm3.State().Count());
    }

    [Fact]
    public void CoherenceProbeReportsTheBatchMCoherenceWithoutChangingTheStep()
    {
        using var data = TinyData.Make(32, seed: 2);
        using var probed = ModelSpec.Create("mlp:8", [20], 3, seed: 1);
        using var plain = ModelSpec.Create("mlp:8", [20], 3, seed: 1);
        var config = new TrainingConfig(1, 16, 3) { Threads = 1, EvaluateEveryEpoch = false };
        var seen = new List<GradientCoherence>();
        new Trainer(Recipe.Sgd(0.1).With(new CoherenceProbe(new Backpropagation(), 1)), config).Run(probed, data, null, new Callback<TrainingEvent>(e => { if (e is GradientCoherence c) seen.Add(c); }));
        new Trainer(Recipe.Sgd(0.1), config).Run(plain, data);
        foreach (var (name, t) in plain.state_dict()) TensorAssert.BitIdentical(t, probed.state_dict()[name], name);
        Assert.Equal(2, seen.Count);
        Assert.All(seen, c => Assert.InRange(c.Value, 1e-6, 16.0));   // m-coherence lies in [0, m]
    }
}
