using Basin.Models;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Models;

public class ModelSpecTests
{
    static readonly long[] Image = [1, 28, 28];

    static bool SameWeights(Classifier a, Classifier b) =>
        a.state_dict().Keys.SequenceEqual(b.state_dict().Keys)
        && a.state_dict().All(kv => TensorBits.Same(kv.Value, b.state_dict()[kv.Key]));

    [Theory]
    [InlineData("lenet5", "lenet5", typeof(LeNet5))]
    [InlineData("mlp", "mlp:512,512:relu", typeof(Mlp))]
    [InlineData("mlp:512,512", "mlp:512,512:relu", typeof(Mlp))]
    [InlineData("mlp:256,128:tanh", "mlp:256,128:tanh", typeof(Mlp))]
    [InlineData(" MLP:64:Sigmoid ", "mlp:64:sigmoid", typeof(Mlp))]
    [InlineData("resnet", "resnet:1", typeof(ResNet))]
    [InlineData("resnet:2", "resnet:2", typeof(ResNet))]
    public void SpecsBuildTheirModelAndGiveACanonicalSpecBack(string spec, string canonical, Type type)
    {
        using var m = ModelSpec.Create(spec, Image, 10, seed: 5);
        Assert.IsType(type, m);
        Assert.Equal(canonical, m.Spec);
        Assert.Equal(10, m.ClassCount);
        using var again = ModelSpec.Create(m.Spec, Image, 10, seed: 5);
        Assert.Equal(canonical, again.Spec);
        Assert.True(SameWeights(m, again));
    }

    [Fact]
    public void EveryExampleIsAValidSpecAndNamedInTheHelp()
    {
        Assert.NotEmpty(ModelSpec.Examples);
        foreach (var spec in ModelSpec.Examples)
        {
            using var m = ModelSpec.Create(spec, Image, 10, seed: 0);
            Assert.Contains(spec, ModelSpec.Help);
        }
    }

    [Theory]
    [InlineData("lenet5")]
    [InlineData("mlp:64,32:tanh")]
    [InlineData("resnet")]
    public void SameSeedGivesIdenticalWeightsAndAnotherSeedDifferentOnes(string spec)
    {
        using var a = ModelSpec.Create(spec, Image, 10, seed: 42);
        torch.randn(100).Dispose(); // disturb the global generator in between: Create must reseed
        using var b = ModelSpec.Create(spec, Image, 10, seed: 42);
        using var c = ModelSpec.Create(spec, Image, 10, seed: 43);
        Assert.True(SameWeights(a, b));
        Assert.False(SameWeights(a, c));
        foreach (var (name, t) in a.named_parameters())
            if (name.EndsWith(".weight") && t.dim() > 1) // every layer draws different numbers for the other seed
                Assert.False(TensorBits.Same(t, c.state_dict()[name]), $"{name} did not change with the seed");
    }

    [Theory]
    [InlineData("vgg16", "unknown model spec 'vgg16'")]
    [InlineData("", "unknown model spec ''")]
    [InlineData("lenet", "unknown model spec 'lenet'")]
    [InlineData("lenet5:2", "lenet5 takes no options")]
    [InlineData("mlp:", "hidden width ''")]
    [InlineData("mlp:512,,512", "hidden width ''")]
    [InlineData("mlp:512,abc", "hidden width 'abc'")]
    [InlineData("mlp:0", "hidden width '0'")]
    [InlineData("mlp:-5", "hidden width '-5'")]
    [InlineData("mlp:512:gelu", "unknown activation 'gelu'")]
    [InlineData("mlp:512:relu:x", "too many ':' parts")]
    [InlineData("resnet:0", "width multiplier '0'")]
    [InlineData("resnet:wide", "width multiplier 'wide'")]
    [InlineData("resnet:1:2", "too many ':' parts")]
    public void BadSpecsAreRejectedNamingTheProblemAndTheValidForms(string spec, string cause)
    {
        var e = Assert.Throws<BasinException>(() => ModelSpec.Create(spec, Image, 10, seed: 0));
        Assert.Contains(cause, e.Message);
        Assert.Contains("valid forms: lenet5, mlp, mlp:W1,W2,..., mlp:W1,W2,...:relu|tanh|sigmoid, resnet, resnet:K", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(new long[] { 784 })]
    [InlineData(new long[] { 1, 32, 32 })]
    [InlineData(new long[] { 28, 28 })]
    [InlineData(new long[] { 1, 1, 28, 28 })]
    public void LeNet5RejectsExamplesThatAreNotCx28x28(long[] shape)
    {
        var e = Assert.Throws<BasinException>(() => ModelSpec.Create("lenet5", shape, 10, seed: 0));
        Assert.Contains("lenet5 needs examples of shape [C,28,28]", e.Message);
        Assert.Contains($"got [{string.Join(",", shape)}]", e.Message);
    }

    [Fact]
    public void ResNetRejectsFlatExamplesAndTooFewClassesAreRejected()
    {
        Assert.Contains("resnet needs examples of shape [C,H,W]",
            Assert.Throws<BasinException>(() => ModelSpec.Create("resnet", [784], 10, 0)).Message);
        Assert.Contains("at least 2 classes",
            Assert.Throws<BasinException>(() => ModelSpec.Create("mlp", Image, 1, 0)).Message);
        Assert.Contains("positive sizes",
            Assert.Throws<BasinException>(() => ModelSpec.Create("mlp", [0, 28], 10, 0)).Message);
    }

    [Fact]
    public void RandomDrawsOnAnotherThreadDoNotChangeTheInitialWeights()
    {
        using var reference = ModelSpec.Create("resnet", Image, 10, seed: 11);
        using var stop = new CancellationTokenSource();
        var noise = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) torch.rand(64).Dispose();
        });
        try
        {
            for (int i = 0; i < 5; i++)
            {
                using var again = ModelSpec.Create("resnet", Image, 10, seed: 11);
                Assert.True(SameWeights(reference, again));
            }
        }
        finally
        {
            stop.Cancel();
            noise.Wait();
        }
    }
}

/// <summary>Model size checked before anything is allocated (issue 20).</summary>
public class ModelSizeTests
{
    [Theory]
    [InlineData("lenet5", 1)]
    [InlineData("lenet5", 3)]
    [InlineData("mlp:16,8:tanh", 1)]
    [InlineData("resnet", 1)]
    [InlineData("resnet:2", 3)]
    [InlineData("lenet5+bottleneck:64", 1)]
    [InlineData("mlp:32+bottleneck:8:relu", 1)]
    public void TheParameterCountIsKnownWithoutBuildingTheModel(string spec, long channels)
    {
        long[] shape = [channels, 28, 28];
        using var model = ModelSpec.Create(spec, shape, 10, seed: 1);
        Assert.Equal(model.parameters().Sum(p => p.numel()), ModelSpec.ParameterCount(spec, shape, 10));
    }
}
