using Basin.Gan;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class ConvGanTests
{
    [Fact]
    public void ShapesRangeAndSeededWeights()
    {
        using var g = new ConvGenerator(latentDim: 8, width: 4, seed: 5);
        using var same = new ConvGenerator(latentDim: 8, width: 4, seed: 5);
        using var other = new ConvGenerator(latentDim: 8, width: 4, seed: 6);
        using var z = g.SampleLatent(3, new TorchSharp.torch.Generator(1));
        using var x = g.forward(z);
        Assert.Equal(new long[] { 3, 1, 28, 28 }, x.shape);
        Assert.True(x.min().item<float>() >= 0 && x.max().item<float>() <= 1);
        Assert.Equal(x.data<float>().ToArray(), same.forward(z).data<float>().ToArray());
        Assert.NotEqual(x.data<float>().ToArray(), other.forward(z).data<float>().ToArray());

        using var f = new ConvCritic(width: 4, CriticNormalization.LayerNorm, seed: 2);
        using var scores = f.forward(x);
        Assert.Equal(new long[] { 3 }, scores.shape);
        Assert.Equal("conv-critic:w4:layernorm", f.Spec);
        Assert.DoesNotContain(f.named_modules(), m => m.module is TorchSharp.Modules.BatchNorm2d);

        using var wrong = zeros(2, 28, 28);
        Assert.Equal("conv-critic:w4:layernorm expects samples [N,1,28,28], got [2,28,28]", Assert.Throws<BasinException>(() => f.forward(wrong)).Message);
        Assert.Equal("conv-generator:8:w4 expects latent codes [N,8], got [2,28,28]", Assert.Throws<BasinException>(() => g.forward(wrong)).Message);
    }

    [Theory]
    [InlineData(CriticNormalization.None)]
    [InlineData(CriticNormalization.LayerNorm)]
    public void PenaltyTrainingStepsRunThroughTheConvolutions(CriticNormalization normalization)
    {
        // Double backward through conv, LayerNorm and transposed conv; images are random in [0, 1].
        using var images = rand(new long[] { 32, 1, 28, 28 }, generator: new TorchSharp.torch.Generator(3));
        using var g = new ConvGenerator(latentDim: 8, width: 4, seed: 1);
        using var f = new ConvCritic(width: 4, normalization, seed: 2);
        var before = f.parameters().Select(p => p.clone()).ToList();
        var config = new WganConfig(Regularization: LipschitzRegularization.GradientPenalty, GeneratorIterations: 2, WarmupIterations: 0,
            CriticSteps: 2, BatchSize: 8, Optimizer: GanOptimizer.Adam, ProgressInterval: 1);
        var result = new WganTrainer(g, f, config).Train(images);
        Assert.Equal(2, result.History.Count);
        Assert.All(result.History, h => Assert.True(h.Penalty > 0 && double.IsFinite(h.CriticLoss)));
        Assert.Contains(f.parameters().Zip(before), pair => (pair.First - pair.Second).abs().max().item<float>() > 0);
    }
}
