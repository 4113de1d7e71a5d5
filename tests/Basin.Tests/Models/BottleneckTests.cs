using Basin.IO;
using Basin.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

[Collection("torch global generator")]
public sealed class BottleneckTests : IDisposable
{
    static readonly long[] Image = [1, 28, 28];

    readonly string dir = Directory.CreateTempSubdirectory("basin-bottleneck-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static bool SameWeights(Classifier a, Classifier b) =>
        a.state_dict().Keys.SequenceEqual(b.state_dict().Keys)
        && a.state_dict().All(kv => TensorBits.Same(kv.Value, b.state_dict()[kv.Key]));

    static Tensor Images(int n, long seed)
    {
        using var g = new Generator((ulong)seed);
        return rand([n, 1, 28, 28], generator: g);
    }

    [Theory]
    [InlineData("lenet5+bottleneck:64", "lenet5+bottleneck:64", "lenet5", 64, null)]
    [InlineData(" LeNet5 + Bottleneck:64:Linear ", "lenet5+bottleneck:64", "lenet5", 64, null)]
    [InlineData("mlp:32+bottleneck:8:relu", "mlp:32:relu+bottleneck:8:relu", "mlp:32:relu", 8, Activation.Relu)]
    [InlineData("mlp:32,16:tanh+bottleneck:1:sigmoid", "mlp:32,16:tanh+bottleneck:1:sigmoid", "mlp:32,16:tanh", 1, Activation.Sigmoid)]
    [InlineData("resnet+bottleneck:16:tanh", "resnet:1+bottleneck:16:tanh", "resnet:1", 16, Activation.Tanh)]
    [InlineData("mlp:8+bottleneck:65536", "mlp:8:relu+bottleneck:65536", "mlp:8:relu", 65536, null)]
    public void SpecsBuildABottleneckModelWhoseCanonicalSpecRebuildsIt(string spec, string canonical, string trunk, int width, Activation? activation)
    {
        using var m = ModelSpec.Create(spec, Image, 10, seed: 5);
        var b = Assert.IsType<BottleneckClassifier>(m);
        Assert.Equal(canonical, m.Spec);
        Assert.Equal(trunk, b.TrunkSpec);
        Assert.Equal(width, b.Width);
        Assert.Equal(activation, b.Activation);
        Assert.Equal(10, m.ClassCount);
        Assert.Equal(new long[] { 10, width }, m.Head.weight!.shape);
        Assert.Equal(new long[] { width, b.TrunkFeatureCount }, b.Bottleneck.weight!.shape);
        using var again = ModelSpec.Create(m.Spec, Image, 10, seed: 5);
        Assert.Equal(canonical, again.Spec);
        Assert.True(SameWeights(m, again));
    }

    [Theory]
    [InlineData("lenet5+bottleneck:0", "bottleneck width '0' is not an integer from 1 to 65536")]
    [InlineData("lenet5+bottleneck:-3", "bottleneck width '-3' is not an integer")]
    [InlineData("lenet5+bottleneck:2.5", "bottleneck width '2.5' is not an integer")]
    [InlineData("lenet5+bottleneck:abc", "bottleneck width 'abc' is not an integer")]
    [InlineData("lenet5+bottleneck:65537", "bottleneck width '65537' is not an integer from 1 to 65536")]
    [InlineData("lenet5+bottleneck:99999999999", "bottleneck width '99999999999' is not an integer")]
    [InlineData("lenet5+bottleneck:", "bottleneck width '' is not an integer")]
    [InlineData("lenet5+bottleneck", "write the bottleneck as +bottleneck:K")]
    [InlineData("lenet5+bottleneck:8:relu:2", "write the bottleneck as +bottleneck:K")]
    [InlineData("lenet5+bottleneck:8:swish", "unknown bottleneck activation 'swish'")]
    [InlineData("lenet5+dropout:3", "unknown option '+dropout:3'")]
    [InlineData("lenet5+", "unknown option '+'")]
    [InlineData("lenet5+bottleneck:8+bottleneck:4", "more than one '+' option")]
    [InlineData("+bottleneck:8", "unknown model spec")]
    [InlineData("mlp:0+bottleneck:8", "hidden width '0'")]
    public void BadSpecsAreOneLineErrorsNamingTheCause(string spec, string cause)
    {
        var e = Assert.Throws<BasinException>(() => ModelSpec.Create(spec, Image, 10, seed: 0));
        Assert.Contains(cause, e.Message);
        Assert.Contains(spec, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("+bottleneck:K", e.Message); // every message lists the valid forms, the bottleneck among them
    }

    [Fact]
    public void BottleneckNeedsAModelWithoutOne()
    {
        using var inner = ModelSpec.Create("mlp:8+bottleneck:4", [6], 3, seed: 0);
        Assert.Contains("already has a bottleneck", Assert.Throws<BasinException>(() => new BottleneckClassifier(inner, 2)).Message);
        using var mlp = ModelSpec.Create("mlp:8", [6], 3, seed: 0);
        Assert.Contains("must be positive", Assert.Throws<BasinException>(() => new BottleneckClassifier(mlp, 0)).Message);
    }

    [Theory]
    [InlineData("lenet5+bottleneck:64", 64)]
    [InlineData("mlp:32+bottleneck:8:relu", 8)]
    [InlineData("resnet+bottleneck:5", 5)]
    public void FeaturesHaveTheBottleneckWidthAndTheHeadMapsThemToTheClasses(string spec, int width)
    {
        using var scope = NewDisposeScope();
        var m = ModelSpec.Create(spec, Image, 7, seed: 1);
        m.eval();
        var x = Images(3, seed: 2);
        var phi = m.Features(x);
        var logits = m.forward(x);
        Assert.Equal(new long[] { 3, width }, phi.shape);
        Assert.Equal(new long[] { 3, 7 }, logits.shape);
        Assert.True(TensorBits.Same(m.Head.forward(phi), logits));
    }

    [Fact]
    public void ParametersAreTheTrunksWithoutItsHeadThenTheBottleneckThenTheHead()
    {
        using var lenet = ModelSpec.Create("lenet5+bottleneck:64", Image, 10, seed: 0);
        Assert.Equal(
            ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
             "bottleneck.weight", "bottleneck.bias", "fc3.weight", "fc3.bias"],
            lenet.named_parameters().Select(np => np.name).ToArray());
        Assert.Equal("fc3", lenet.HeadName);
        Assert.Equal(new long[] { 64, 84 }, lenet.state_dict()["bottleneck.weight"].shape);
        Assert.Equal(new long[] { 10, 64 }, lenet.state_dict()["fc3.weight"].shape);

        using var mlp = ModelSpec.Create("mlp:16,8+bottleneck:4", Image, 10, seed: 0);
        Assert.Equal(["fc1", "fc2", "bottleneck", "fc3"], mlp.named_children().Select(c => c.name).ToArray());
        Assert.Equal(new long[] { 10, 4 }, mlp.state_dict()["fc3.weight"].shape);

        using var resnet = ModelSpec.Create("resnet+bottleneck:16", Image, 10, seed: 0);
        Assert.Contains("layer3.0.downsample.1.running_var", resnet.state_dict().Keys); // BatchNorm buffers stay in the state_dict
        var names = resnet.named_parameters().Select(np => np.name).ToArray();
        Assert.Equal(["bottleneck.weight", "bottleneck.bias", "fc.weight", "fc.bias"], names[^4..]);
        Assert.Equal("fc", resnet.HeadName);
    }

    [Theory]
    [InlineData("lenet5", "lenet5+bottleneck:64", true)]
    [InlineData("mlp:32,16:tanh", "mlp:32,16:tanh+bottleneck:8:relu", true)]
    [InlineData("resnet", "resnet+bottleneck:16", false)]
    public void InitialWeightsDependOnlyOnTheSeedAndTheTrunkStartsAsThePlainModel(string plainSpec, string spec, bool flat)
    {
        using var a = ModelSpec.Create(spec, Image, 10, seed: 42);
        randn(100).Dispose(); // disturb the global generator in between: Create must reseed
        using var b = ModelSpec.Create(spec, Image, 10, seed: 42);
        using var c = ModelSpec.Create(spec, Image, 10, seed: 43);
        using var plain = ModelSpec.Create(plainSpec, Image, 10, seed: 42);
        Assert.True(SameWeights(a, b));
        foreach (var (name, t) in a.named_parameters())
            if (name.EndsWith(".weight") && t.dim() > 1)
                Assert.False(TensorBits.Same(t, c.state_dict()[name]), $"{name} did not change with the seed");
        // Layers draw in named_modules() order, top-level modules before nested ones. Where every layer is top-level
        // (LeNet-5, MLP) the trunk's layers come before the bottleneck and head, so they equal the plain model's.
        // In the ResNet the new top-level layers draw before the blocks' convolutions, so only conv1 is shared.
        var plainState = plain.state_dict();
        var bottleneck = (BottleneckClassifier)a;
        foreach (var (name, t) in a.named_parameters())
        {
            if (name.StartsWith("bottleneck.") || name.StartsWith(a.HeadName + ".")) continue;
            if (flat || name == "conv1.weight")
                Assert.True(TensorBits.Same(t, plainState[name]), $"{name} differs from {plainSpec}'s");
        }
        // PyTorch's default bounds: U(±1/√fan_in) for the bottleneck (fan-in = trunk features) and the head (fan-in = k).
        Assert.True(bottleneck.Bottleneck.weight!.abs().max().ToDouble() <= 1 / Math.Sqrt(bottleneck.TrunkFeatureCount));
        Assert.True(a.Head.weight!.abs().max().ToDouble() <= 1 / Math.Sqrt(bottleneck.Width));
        Assert.True(a.Head.weight!.abs().max().ToDouble() > 0.5 / Math.Sqrt(bottleneck.Width));
    }

    [Theory]
    [InlineData("lenet5+bottleneck:64", null)]
    [InlineData("lenet5+bottleneck:64:relu", Activation.Relu)]
    [InlineData("lenet5+bottleneck:64:tanh", Activation.Tanh)]
    [InlineData("lenet5+bottleneck:64:sigmoid", Activation.Sigmoid)]
    public void FeaturesAreTheActivatedBottleneckOfTheTrunkFeatures(string spec, Activation? activation)
    {
        using var scope = NewDisposeScope();
        var m = (BottleneckClassifier)ModelSpec.Create(spec, Image, 10, seed: 3);
        var plain = ModelSpec.Create("lenet5", Image, 10, seed: 3); // same trunk weights (see above)
        var x = Images(4, seed: 9);
        var z = nn.functional.linear(plain.Features(x), m.Bottleneck.weight!, m.Bottleneck.bias);
        var expected = activation switch
        {
            null => z,
            Activation.Relu => nn.functional.relu(z),
            Activation.Tanh => tanh(z),
            _ => sigmoid(z),
        };
        Assert.True(TensorBits.Same(expected, m.Features(x)));
        if (activation is null) Assert.True(m.Features(x).lt(0).any().ToBoolean()); // linear: no ReLU hidden anywhere
    }

    [Fact]
    public void DtypeAndTrainingModeReachTheTrunkLayers()
    {
        using var scope = NewDisposeScope();
        var m = ModelSpec.Create("resnet+bottleneck:8", Image, 10, seed: 0);
        m.to(ScalarType.Float64);
        Assert.All(m.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        var x = Images(2, seed: 1).to_type(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, m.forward(x).dtype); // the trunk's own fields see the converted layers
        m.eval();
        Assert.All(m.named_modules(), nm => Assert.False(nm.module.training, nm.name));
        var a = m.forward(x);
        var b = m.forward(x.narrow(0, 0, 1));
        Assert.True(MaxAbs(a.narrow(0, 0, 1).sub(b)) < 1e-10); // BatchNorm in eval mode: no batch statistics
    }

    static double MaxAbs(Tensor t) => t.abs().max().ToDouble();

    [Fact]
    public void WeightsSaveAndLoadRoundTrip()
    {
        var path = Path.Combine(dir, "bottleneck.safetensors");
        using var trained = ModelSpec.Create("lenet5+bottleneck:32:relu", Image, 10, seed: 1);
        Weights.Save(trained, path, new Dictionary<string, string> { ["basin.spec"] = trained.Spec });
        using var file = SafeTensors.Load(path);
        Assert.Contains("bottleneck.weight", file.Tensors.Keys);
        Assert.Equal("lenet5+bottleneck:32:relu", file.Metadata["basin.spec"]);

        using var rebuilt = ModelSpec.Create(file.Metadata["basin.spec"], Image, 10, seed: 2);
        Assert.False(SameWeights(trained, rebuilt));
        Weights.Load(rebuilt, path);
        Assert.True(SameWeights(trained, rebuilt));
        using var x = Images(2, seed: 4);
        Assert.True(TensorBits.Same(trained.forward(x), rebuilt.forward(x)));

        // A plain LeNet-5's weights do not fit: the message names what is missing and what does not fit.
        var plainPath = Path.Combine(dir, "plain.safetensors");
        using var plain = ModelSpec.Create("lenet5", Image, 10, seed: 1);
        Weights.Save(plain, plainPath);
        var e = Assert.Throws<DataFormatException>(() => Weights.Load(rebuilt, plainPath));
        Assert.Contains("missing bottleneck.weight", e.Message);
        Assert.Contains("fc3.weight has shape [10,84], model expects [10,32]", e.Message);
        Assert.True(SameWeights(trained, rebuilt)); // nothing copied on failure
    }
}
