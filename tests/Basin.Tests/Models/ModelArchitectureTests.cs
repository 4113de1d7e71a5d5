using Basin.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

public class ModelArchitectureTests
{
    static readonly long[] Image = [1, 28, 28];

    static string Describe(Classifier m) =>
        string.Join("\n", m.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]"));

    static long ParameterCount(Classifier m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void LeNet5HasPyTorchNamesAndShapesInOrder()
    {
        using var m = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        Assert.Equal("""
            conv1.weight [6,1,5,5]
            conv1.bias [6]
            conv2.weight [16,6,5,5]
            conv2.bias [16]
            fc1.weight [120,400]
            fc1.bias [120]
            fc2.weight [84,120]
            fc2.bias [84]
            fc3.weight [10,84]
            fc3.bias [10]
            """, Describe(m));
        Assert.Equal(m.state_dict().Keys, m.named_parameters().Select(p => p.name));
        Assert.Equal(61_706, ParameterCount(m));
        Assert.Equal("fc3", m.HeadName);
        Assert.Same(m.Head.weight, m.named_parameters().Single(p => p.name == "fc3.weight").parameter);
    }

    [Fact]
    public void LeNet5TakesInputChannelsFromTheExampleShape()
    {
        using var m = ModelSpec.Create("lenet5", [3, 28, 28], 7, seed: 0);
        Assert.Equal(new long[] { 6, 3, 5, 5 }, m.state_dict()["conv1.weight"].shape);
        Assert.Equal(new long[] { 7, 84 }, m.state_dict()["fc3.weight"].shape);
        using var x = torch.randn(2, 3, 28, 28);
        using var y = m.forward(x);
        Assert.Equal(new long[] { 2, 7 }, y.shape);
    }

    [Fact]
    public void Mlp784x512x512x10HasThreeLayersAndTheKnownParameterCount()
    {
        using var m = ModelSpec.Create("mlp:512,512", Image, 10, seed: 0);
        Assert.Equal("""
            fc1.weight [512,784]
            fc1.bias [512]
            fc2.weight [512,512]
            fc2.bias [512]
            fc3.weight [10,512]
            fc3.bias [10]
            """, Describe(m));
        Assert.Equal(669_706, ParameterCount(m));
        Assert.Equal("fc3", m.HeadName);
    }

    [Fact]
    public void ResNetStateDictHoldsBatchNormBuffersUnderTorchvisionNames()
    {
        using var m = ModelSpec.Create("resnet", Image, 10, seed: 0);
        var sd = m.state_dict();
        foreach (var bn in new[] { "bn1", "layer1.0.bn1", "layer1.0.bn2", "layer2.0.bn1", "layer2.0.downsample.1", "layer3.0.bn2" })
            foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" })
                Assert.True(sd.ContainsKey($"{bn}.{suffix}"), $"missing {bn}.{suffix}");
        Assert.Equal(ScalarType.Int64, sd["bn1.num_batches_tracked"].dtype);
        Assert.Empty(sd["bn1.num_batches_tracked"].shape);
        Assert.Equal(new long[] { 16, 1, 3, 3 }, sd["conv1.weight"].shape);
        Assert.Equal(new long[] { 32, 16, 1, 1 }, sd["layer2.0.downsample.0.weight"].shape);
        Assert.Equal(new long[] { 64, 64, 3, 3 }, sd["layer3.0.conv2.weight"].shape);
        Assert.False(sd.ContainsKey("layer1.0.downsample.0.weight")); // stride 1, same width: identity shortcut
        Assert.False(sd.ContainsKey("conv1.bias"));                    // convolutions before BatchNorm carry no bias
        Assert.Equal(new long[] { 10, 64 }, sd["fc.weight"].shape);
        Assert.Equal("fc", m.HeadName);
        // 9 BatchNorm layers (stem, 2 per block, 2 downsamples) hold 3 buffers each that are not parameters
        Assert.Equal(29, m.parameters().Count());
        Assert.Equal(29 + 9 * 3, sd.Count);
    }

    [Fact]
    public void ResNetWidthMultiplierScalesChannels()
    {
        using var m = ModelSpec.Create("resnet:2", Image, 10, seed: 0);
        var sd = m.state_dict();
        Assert.Equal(new long[] { 32, 1, 3, 3 }, sd["conv1.weight"].shape);
        Assert.Equal(new long[] { 128, 64, 3, 3 }, sd["layer3.0.conv1.weight"].shape);
        Assert.Equal(new long[] { 10, 128 }, sd["fc.weight"].shape);
    }

    [Theory]
    [InlineData("lenet5", 84)]
    [InlineData("mlp:512,512", 512)]
    [InlineData("mlp:256,128:tanh", 128)]
    [InlineData("mlp:16:sigmoid", 16)]
    [InlineData("resnet", 64)]
    [InlineData("resnet:2", 128)]
    public void ForwardAndFeaturesHaveTheDocumentedShapes(string spec, long featureCount)
    {
        using var scope = torch.NewDisposeScope();
        var m = ModelSpec.Create(spec, Image, 10, seed: 1);
        var x = torch.randn(5, 1, 28, 28);
        var phi = m.Features(x);
        var logits = m.forward(x);
        Assert.Equal(new long[] { 5, featureCount }, phi.shape);
        Assert.Equal(new long[] { 5, 10 }, logits.shape);
        // forward is the head applied to φ
        m.eval();
        var phiEval = m.Features(x);
        Assert.True(m.forward(x).allclose(m.Head.forward(phiEval)));
        m.Dispose();
    }

    [Fact]
    public void ActivationsBoundTheFeatures()
    {
        using var scope = torch.NewDisposeScope();
        var x = 10 * torch.randn(8, 1, 28, 28);
        var relu = ModelSpec.Create("mlp:32", Image, 10, 0).Features(x);
        var tanh = ModelSpec.Create("mlp:32:tanh", Image, 10, 0).Features(x);
        var sigmoid = ModelSpec.Create("mlp:32:sigmoid", Image, 10, 0).Features(x);
        Assert.True(relu.min().item<float>() == 0f && relu.max().item<float>() > 0f);
        Assert.True(tanh.min().item<float>() < 0f && tanh.abs().max().item<float>() <= 1f);
        Assert.True(sigmoid.min().item<float>() >= 0f && sigmoid.max().item<float>() <= 1f);
        // the activation really differs between the two models (same seed, so same pre-activations)
        Assert.True(relu.ne(tanh).any().item<bool>());
    }

    [Fact]
    public void MlpAcceptsAnyExampleShapeAndFlattensIt()
    {
        using var scope = torch.NewDisposeScope();
        var m = ModelSpec.Create("mlp:8", [3, 4, 5], 3, seed: 0);
        Assert.Equal(new long[] { 8, 60 }, m.state_dict()["fc1.weight"].shape);
        Assert.Equal(new long[] { 2, 3 }, m.forward(torch.randn(2, 3, 4, 5)).shape);
        Assert.Equal(new long[] { 2, 3 }, m.forward(torch.randn(2, 60)).shape);
        m.Dispose();
    }

    [Theory]
    [InlineData("lenet5", new long[] { 2, 1, 32, 32 })]
    [InlineData("lenet5", new long[] { 2, 3, 28, 28 })]
    [InlineData("lenet5", new long[] { 1, 28, 28 })]
    [InlineData("mlp", new long[] { 2, 1, 28, 27 })]
    [InlineData("resnet", new long[] { 2, 28, 28 })]
    public void WrongInputShapeIsABasinExceptionNotACrash(string spec, long[] shape)
    {
        using var m = ModelSpec.Create(spec, Image, 10, seed: 0);
        using var x = torch.zeros(shape);
        var e = Assert.Throws<BasinException>(() => m.forward(x));
        Assert.Contains($"[{string.Join(",", shape)}]", e.Message);
        Assert.Contains("expects input", e.Message);
    }

    [Fact]
    public void InitialisationIsPyTorchsDefaultBitForBit()
    {
        // Reference values: torch.manual_seed(7); LeNet5() in PyTorch 1.13 (make_lenet5_fixture.py's class).
        // Equal numbers mean kaiming_uniform(a=√5) weights and U(±1/√fan_in) biases drawn in the same order.
        using var m = ModelSpec.Create("lenet5", Image, 10, seed: 7);
        var sd = m.state_dict();
        Assert.Equal(new[] { 0.013969016261398792f, -0.12047872692346573f, 0.06368467956781387f, 0.06275611370801926f, -0.10689537972211838f },
            sd["conv1.weight"][0, 0, 0].data<float>().ToArray());
        Assert.Equal(new[] { 0.03337572142481804f, 0.0414920300245285f, -0.010847489349544048f, -0.0001806904620025307f },
            sd["fc3.bias"][..4].data<float>().ToArray());
        Assert.Equal(new[] { 0.015240758657455444f, -0.03548156097531319f, 0.04684070497751236f },
            sd["fc1.weight"][119, ^3..].data<float>().ToArray());
        Assert.Equal(1.1228857077955752, sd["fc1.weight"].to_type(ScalarType.Float64).sum().item<double>(), 9);
    }

    [Fact]
    public void InitialValuesLieWithinTheDefaultBounds()
    {
        // kaiming_uniform with a=√5 gives bound √(6/((1+5)·fan_in)) = 1/√fan_in, the same bound as the bias.
        using var m = ModelSpec.Create("mlp:512", Image, 10, seed: 3);
        var w = m.state_dict()["fc1.weight"];
        double bound = 1 / Math.Sqrt(784);
        Assert.True(w.abs().max().item<float>() <= bound);
        Assert.True(w.abs().max().item<float>() > 0.999 * bound);
        Assert.Equal(bound * bound / 3, w.var().item<float>(), 1e-5); // variance of U(-b, b)
        var b = m.state_dict()["fc2.bias"];
        Assert.True(b.abs().max().item<float>() <= 1 / Math.Sqrt(512));
    }
}
