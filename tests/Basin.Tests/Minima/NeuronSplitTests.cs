using Basin.Minima;
using Basin.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Minima;

/// <summary>The construction: same function for every λ, a flat line, and the second-order identities of B and M (double backward).</summary>
public class NeuronSplitTests
{
    /// <summary>A 2→3→2→1 network with seeded N(0, 0.8²) weights on 30 seeded points in [−2, 2]² with seeded targets.</summary>
    static (SmoothNet Net, FitData Data) Deep(Activation activation)
    {
        var rng = new Random(7);
        int[] sizes = [2, 3, 2, 1];
        var theta = Enumerable.Range(0, (int)SmoothNet.ParameterCount(sizes)).Select(_ => 0.8 * Normal(rng)).ToArray();
        var x = new double[30, 2];
        var y = new double[30, 1];
        for (int n = 0; n < 30; n++)
        {
            x[n, 0] = rng.NextDouble() * 4 - 2;
            x[n, 1] = rng.NextDouble() * 4 - 2;
            y[n, 0] = Normal(rng);
        }
        return (new SmoothNet(sizes, activation, theta), FitData.Regression(x, y));
    }

    static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    static double[] Outputs(SmoothNet net, FitData data)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return net.Forward(net.ThetaTensor(), data.Inputs).contiguous().data<double>().ToArray();
    }

    [Theory]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    public void TheSplitNetworkComputesTheSameFunctionForEveryLambda(Activation activation)
    {
        var (net, data) = Deep(activation);
        using var _ = data;
        var small = Outputs(net, data);
        foreach (var (layer, unit) in new[] { (1, 2), (2, 1) })
            foreach (var lambda in new[] { -2, 0.3, 1.7 })
            {
                var split = NeuronSplit.Split(net, layer, unit, lambda);
                Assert.Equal(net.Sizes[layer] + 1, split.Sizes[layer]);
                var big = Outputs(split, data);
                for (int i = 0; i < small.Length; i++)
                    Assert.True(Math.Abs(big[i] - small[i]) <= 1e-15, $"layer {layer}, λ = {lambda}: {big[i]} vs {small[i]}");
            }
    }

    [Fact]
    public void AtACriticalPointTheLineIsFlatAndCritical()
    {
        using var point = ConstructedExample.Create();
        double loss = NetLoss.Loss(point.Net, point.Data);
        foreach (var lambda in new[] { -2, -0.5, 0, 0.3, 0.5, 1, 1.5, 1.7 })
        {
            var (l, g) = NetLoss.LossAndGradient(NeuronSplit.Split(point.Net, 1, 1, lambda), point.Data);
            Assert.True(Math.Abs(l - loss) <= 1e-15, $"λ = {lambda}: {l - loss}");
            Assert.True(NetLoss.Norm(g) <= 1e-15, $"λ = {lambda}: ‖∇L‖ = {NetLoss.Norm(g)}");
        }
    }

    [Theory]
    [InlineData(Activation.Sigmoid, 1, 2)]
    [InlineData(Activation.Sigmoid, 2, 1)]
    [InlineData(Activation.Tanh, 1, 3)]
    public void CurvatureAlongTheSplitDirectionIsLambdaOneMinusLambdaUBU(Activation activation, int layer, int unit)
    {
        var (net, data) = Deep(activation);
        using var _ = data;
        var c = SplitCurvature.At(net, data, layer, unit);
        var rng = new Random(3);
        foreach (var lambda in new[] { -0.5, 0.3, 0.5, 1.5 })
        {
            var u = Enumerable.Range(0, net.Sizes[layer - 1] + 1).Select(_ => Normal(rng)).ToArray();
            var split = NeuronSplit.Split(net, layer, unit, lambda);
            var d = NeuronSplit.SplitDirection(net, layer, unit, lambda, u);
            double exact = NetLoss.SecondDerivative(split, data, d, d);
            double predicted = lambda * (1 - lambda) * c.QuadraticB(u);
            Assert.True(Math.Abs(exact - predicted) <= 1e-10 * Math.Abs(predicted) + 1e-16, $"λ = {lambda}: {exact} vs {predicted}");
            // The mixed derivative with the transfer direction (η, −η) is ηᵀMu.
            var eta = Enumerable.Range(0, net.Sizes[layer + 1]).Select(_ => Normal(rng)).ToArray();
            var t = NeuronSplit.TransferDirection(net, layer, unit, eta);
            double mixed = NetLoss.SecondDerivative(split, data, d, t);
            double predictedMixed = c.Mixed(eta, u);
            Assert.True(Math.Abs(mixed - predictedMixed) <= 1e-10 * Math.Abs(predictedMixed) + 1e-16, $"λ = {lambda}: {mixed} vs {predictedMixed}");
            // Along the transfer direction alone the loss is exactly constant: zero curvature.
            Assert.True(Math.Abs(NetLoss.SecondDerivative(split, data, t, t)) <= 1e-15);
        }
    }

    [Fact]
    public void TheSpectrumAtLambdaEqualsTheSpectrumAtOneMinusLambda()
    {
        using var point = ConstructedExample.Create();
        foreach (var lambda in new[] { 0.25, -0.5, 2.0 })
        {
            var a = SymmetricEigen.Of(NetLoss.Hessian(NeuronSplit.Split(point.Net, 1, 1, lambda), point.Data)).Values;
            var b = SymmetricEigen.Of(NetLoss.Hessian(NeuronSplit.Split(point.Net, 1, 1, 1 - lambda), point.Data)).Values;
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-13 * Math.Abs(a[^1]), $"λ = {lambda}, eigenvalue {i}: {a[i]} vs {b[i]}");
        }
    }

    [Fact]
    public void SplittingAUnitThatDoesNotExistIsRefused()
    {
        var (net, data) = Deep(Activation.Sigmoid);
        using var _ = data;
        Assert.Equal("hidden layer 3 does not exist: 2→3→2→1 sigmoid has hidden layers 1 to 2",
            Assert.Throws<BasinException>(() => NeuronSplit.Split(net, 3, 1, 0.5)).Message);
        Assert.Equal("unit 4 does not exist: hidden layer 1 of 2→3→2→1 sigmoid has units 1 to 3",
            Assert.Throws<BasinException>(() => NeuronSplit.Split(net, 1, 4, 0.5)).Message);
        Assert.Contains("needs a smooth activation", Assert.Throws<BasinException>(() => new SmoothNet([2, 3, 1], Activation.Relu, new double[13])).Message);
    }
}
