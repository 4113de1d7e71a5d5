using Basin.Data;
using Basin.Models;
using Basin.Pruning;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pruning;

/// <summary>The dead-neuron rate against counts by hand, its invariance, and the probe against the models' own forward.</summary>
public sealed class DeadNeuronTests
{
    /// <summary>One ReLU layer with W = I₂, b = 0 (then a head), on the inputs (1, −1) and (−1, −1).</summary>
    static (Mlp Model, LabeledDataset Data) HandCase()
    {
        var model = new Mlp(2, [2], 2);
        var s = model.state_dict();
        using (no_grad())
        {
            using var eye = torch.eye(2);
            s["fc1.weight"].copy_(eye);
            s["fc1.bias"].zero_();
        }
        var data = new LabeledDataset("hand", tensor(new float[] { 1, -1, -1, -1 }).reshape(2, 2), tensor(new long[] { 0, 1 }), 2);
        return (model, data);
    }

    [Fact]
    public void TheHandMadeLayerGivesTheCountByHand()
    {
        var (model, data) = HandCase();
        using var _ = model;
        using var __ = data;
        var dnr = DeadNeurons.Measure(model, data);
        // z = x: unit 2 is ≤ 0 on both inputs, unit 1 on the second: 3 of 4 pairs dead; unit 2 is dead on every input.
        var layer = Assert.Single(dnr.Layers);
        Assert.Equal(new LayerDeadRate("fc1", 2, 1, 2, 3, 1, 0), layer);
        Assert.Equal(0.75, dnr.Overall);
        Assert.Equal(0.5, dnr.StaticFraction);
        Assert.Equal(0.75, dnr.OverallExcludingStructural);

        // Scaling the layer's weights and bias by a > 0 changes no sign: the rate stays.
        using (no_grad())
        {
            using var a = 3.5.ToScalar();
            model.state_dict()["fc1.weight"].mul_(a);
            model.state_dict()["fc1.bias"].add_(a).mul_(a);   // bias 3.5·3.5 > 0 on both: now nothing is dead
        }
        Assert.Equal(0, DeadNeurons.Measure(model, data).Overall);

        // A unit whose incoming weights are all pruned and whose bias is ≤ 0 is structurally dead, and can be left out.
        using (no_grad())
        {
            model.state_dict()["fc1.weight"][1].zero_();
            using var minus = (-1.0).ToScalar();
            model.state_dict()["fc1.bias"][1].fill_(minus);
        }
        var pruned = DeadNeurons.Measure(model, data);
        Assert.Equal(1, pruned.Layers[0].StructurallyDeadChannels);
        Assert.Equal(0.5, pruned.Overall);
        Assert.Equal(0, pruned.OverallExcludingStructural);
    }

    [Fact]
    public void ConvolutionalUnitsAreCountedPerChannelAndPositionAndTheProbeIsTheModelsForward()
    {
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 2);
        using var g = new Generator(4);
        using var x = rand(new long[] { 7, 1, 28, 28 }, generator: g);
        using var scope = NewDisposeScope();
        using var __ = no_grad();
        var (layers, logits) = ReluProbe.Forward(model, x);
        var expected = model.forward(x);
        Assert.True(expected.eq(logits).all().item<bool>());
        Assert.Equal(new[] { ("conv1", 784L), ("conv2", 100L), ("fc1", 1L), ("fc2", 1L) }, layers.Select(l => (l.Layer, l.ElementsPerChannel)));
        using var data = new LabeledDataset("x", x.clone(), zeros(7, dtype: ScalarType.Int64), 10);
        var dnr = DeadNeurons.Measure(model, data, batchSize: 3);   // three batches: counts add up across them
        Assert.Equal(new long[] { 6 * 784, 16 * 100, 120, 84 }, dnr.Layers.Select(l => l.Units));
        for (int i = 0; i < layers.Count; i++)
        {
            using var zero = zeros(1);
            long byHand = layers[i].Z.le(zero).sum().ToInt64();
            Assert.Equal(byHand, dnr.Layers[i].DeadPairs);
            long staticByHand = layers[i].Z.le(zero).all(0).sum().ToInt64();
            Assert.Equal(staticByHand, dnr.Layers[i].StaticDead);
        }
        double overall = (double)dnr.Layers.Sum(l => l.DeadPairs) / (7 * (6 * 784 + 1600 + 120 + 84));
        Assert.Equal(overall, dnr.Overall, 15);

        using var tanh = new Mlp(4, [3], 2, Activation.Tanh);
        Assert.Contains("needs a ReLU network", Assert.Throws<BasinException>(() => ReluProbe.Forward(tanh, zeros(1, 4))).Message);
    }
}
