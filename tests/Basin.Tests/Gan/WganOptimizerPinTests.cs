using Basin.Data;
using Basin.Gan;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

/// <summary>
/// Values of short WGAN runs pinned before the trainer moved from torch.optim to Basin's update rules (Adam, RMSProp):
/// the move must not change a single bit of the losses or the weights.
/// </summary>
public class WganOptimizerPinTests
{
    readonly ITestOutputHelper output;
    public WganOptimizerPinTests(ITestOutputHelper output) => this.output = output;

    static (double Critic, double Generator, double GeneratorSum, double CriticSum) Run(GanOptimizer optimizer, LipschitzRegularization kind)
    {
        using var data = ToyDatasets.Create("8gaussians", 256, seed: 1);
        using var generator = new MlpGenerator(hiddenWidths: [16, 16], seed: 1);
        using var critic = new MlpCritic(hiddenWidths: [16, 16], seed: 2);
        var config = new WganConfig(Regularization: kind, GeneratorIterations: 12, BatchSize: 32, WarmupIterations: 2,
            Optimizer: optimizer, Seed: 4, ProgressInterval: 1, EvaluationInterval: 0);
        var result = new WganTrainer(generator, critic, config).Train(data.Inputs);
        using var _ = no_grad();
        double gs = generator.parameters().Sum(p => p.to_type(ScalarType.Float64).sum().ToDouble());
        double cs = critic.parameters().Sum(p => p.to_type(ScalarType.Float64).sum().ToDouble());
        return (result.Final.CriticLoss, result.Final.GeneratorLoss, gs, cs);
    }

    [Theory]
    [InlineData(GanOptimizer.RmsProp, LipschitzRegularization.WeightClipping, -2.006441354751587E-05, -0.009884251281619072, 1.6694111856631935, -0.05255327203485649)]
    [InlineData(GanOptimizer.Adam, LipschitzRegularization.LipschitzPenalty, -0.013930529356002808, -0.1328102946281433, 1.6402893571648747, -2.569026550045237)]
    [InlineData(GanOptimizer.RmsProp, LipschitzRegularization.GradientPenalty, 6.7272539138793945, -0.2002871185541153, 1.7103893309249543, -3.6718357177160215)]
    public void ShortRunsKeepTheirPinnedValues(GanOptimizer optimizer, LipschitzRegularization kind,
        double criticLoss, double generatorLoss, double generatorSum, double criticSum)
    {
        var r = Run(optimizer, kind);
        output.WriteLine($"{optimizer} {kind}: {r.Critic:R}, {r.Generator:R}, {r.GeneratorSum:R}, {r.CriticSum:R}");
        Assert.Equal(criticLoss, r.Critic);
        Assert.Equal(generatorLoss, r.Generator);
        Assert.Equal(generatorSum, r.GeneratorSum);
        Assert.Equal(criticSum, r.CriticSum);
    }
}
