using Basin.Flatness;
using Basin.Measures;
using Basin.Models;
using Basin.Training.PerExample;
using Basin.Data;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

/// <summary>
/// A model written outside Basin gets per-example gradients, inner-layer flatness, path-norm and copies through the
/// extension point (<see cref="Classifier.Replay"/>, <see cref="Classifier.NewOfSameArchitecture"/>,
/// <see cref="Classifier.IsReluNetwork"/>), with the same numbers as Basin's own MLP holding the same weights.
/// </summary>
public class CustomClassifierTests
{
    /// <summary>in → hidden (ReLU) → out, calling its layers' forward directly (so module hooks never fire).</summary>
    sealed class TwoLayer : Classifier
    {
        readonly Linear hidden, output;
        readonly bool describe;

        public TwoLayer(int inputs, int width, int classes, bool describe) : base("two_layer")
        {
            hidden = nn.Linear(inputs, width);
            output = nn.Linear(width, classes);
            this.describe = describe;
            (Inputs, Width, ClassCount) = (inputs, width, classes);
            RegisterComponents();
        }

        int Inputs { get; }
        int Width { get; }
        public override string Spec => "two-layer";
        public override int ClassCount { get; }
        public override string HeadName => nameof(output);
        public override Linear Head => output;
        public override Tensor Features(Tensor input) => nn.functional.relu(hidden.forward(input));
        public override bool CanReplay => describe;
        public override Tensor Replay(Tensor input, LayerStep step) => step(nameof(output), nn.functional.relu(step(nameof(hidden), input)));
        public override Classifier? NewOfSameArchitecture() => describe ? new TwoLayer(Inputs, Width, ClassCount, describe) : null;
        public override bool IsReluNetwork => describe;
    }

    static (TwoLayer Custom, Mlp Twin, LabeledDataset Data) Pair(bool describe = true)
    {
        torch.manual_seed(7);
        var custom = new TwoLayer(3, 5, 4, describe);
        custom.to(ScalarType.Float64);
        var twin = new Mlp(3, [5], 4);
        twin.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            var source = custom.named_parameters().Select(p => p.parameter).ToList();
            var target = twin.named_parameters().Select(p => p.parameter).ToList();
            for (int i = 0; i < source.Count; i++) target[i].copy_(source[i]);
        }
        var data = new LabeledDataset("toy", torch.randn(12, 3, dtype: ScalarType.Float64), torch.randint(0, 4, 12, dtype: ScalarType.Int64), 4);
        return (custom, twin, data);
    }

    [Fact]
    public void PerExampleGradientsByReplayEqualTheExactOnes()
    {
        var (custom, _, data) = Pair();
        using var x = data.Inputs.to_type(ScalarType.Float64);
        var replayed = PerExampleGradients.Compute(custom, x, data.Labels);
        var exact = PerExampleGradients.Exact(custom, x, data.Labels);
        Assert.Equal(4, replayed.Length);
        for (int i = 0; i < replayed.Length; i++) Assert.True(replayed[i].allclose(exact[i], rtol: 1e-12, atol: 1e-14), $"parameter {i}");
    }

    [Fact]
    public void InnerLayerFlatnessPathNormAndCopiesEqualThoseOfTheSameMlp()
    {
        var (custom, twin, data) = Pair();
        // Feature normalization needs the inner layer's inputs: captured by replaying the custom model.
        var options = new FlatnessOptions { NormalizeFeatures = true };
        double mine = RelativeFlatness.Measure(custom, data, "hidden", FlatnessVariant.Block, options).Value;
        double mlp = RelativeFlatness.Measure(twin, data, "fc1", FlatnessVariant.Block, options).Value;
        Assert.True(mine > 0);
        Assert.Equal(mlp, mine, 10);
        Assert.Equal(PathNorm.Compute(twin, [3]), PathNorm.Compute(custom, [3]), 10);
        using var copy = Reparametrization.Copy(custom);
        using var x = data.Inputs.to_type(ScalarType.Float64);
        using var a = custom.forward(x);
        using var b = copy.forward(x);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
    }

    [Fact]
    public void AModelThatDoesNotDescribeItselfGetsClearErrors()
    {
        var (custom, _, data) = Pair(describe: false);
        Assert.Contains("cannot be copied", Assert.Throws<BasinException>(() => Reparametrization.Copy(custom)).Message);
        Assert.Contains("ReLU networks", Assert.Throws<BasinException>(() => PathNorm.Compute(custom, [3])).Message);
        Assert.Contains("cannot capture the input of layer 'hidden'",
            Assert.Throws<BasinException>(() => RelativeFlatness.Measure(custom, data, "hidden", FlatnessVariant.Block,
                new FlatnessOptions { NormalizeFeatures = true })).Message);
        // Per-example gradients still work, by the exact (slower) path.
        using var x = data.Inputs.to_type(ScalarType.Float64);
        Assert.Equal(4, PerExampleGradients.Compute(custom, x, data.Labels).Length);
    }
}
