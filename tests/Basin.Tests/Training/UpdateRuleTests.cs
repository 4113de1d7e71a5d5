using Basin.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

public class UpdateRuleTests
{
    // f(w) = w₁² + w₂²/4 from w = (1, −2), lr 0.1; expected values worked by hand (exact rationals for SGD,
    // 50-digit decimals for Adam).
    static double[][] RunOnQuadratic(IUpdateRule rule, int steps = 3)
    {
        var w = new Parameter(tensor(new double[] { 1, -2 }));
        using var coefficients = tensor(new double[] { 1, 0.25 });
        var parameters = new[] { new NamedParameter("w", w) };
        using var updater = rule.Bind(parameters);
        var trace = new double[steps][];
        for (int t = 0; t < steps; t++)
        {
            using var scope = NewDisposeScope();
            w.grad = null;
            w.square().mul(coefficients).sum().backward();
            updater.Apply(0.1);
            trace[t] = w.data<double>().ToArray();
        }
        return trace;
    }

    static void Close(double[] expected, double[] actual, double tolerance = 1e-15)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"component {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void SgdWithoutMomentumIsGradientDescent()
    {
        var trace = RunOnQuadratic(new Sgd());
        Close([0.8, -1.9], trace[0]);
        Close([0.64, -1.805], trace[1]);
        Close([0.512, -1.71475], trace[2]);
    }

    [Fact]
    public void SgdMomentumMatchesHandComputedSteps()
    {
        var trace = RunOnQuadratic(new Sgd(Momentum: 0.9));
        Close([0.8, -1.9], trace[0]);
        Close([0.46, -1.715], trace[1]);
        Close([0.062, -1.46275], trace[2]);
    }

    [Fact]
    public void SgdNesterovMatchesHandComputedSteps()
    {
        var trace = RunOnQuadratic(new Sgd(Momentum: 0.9, Nesterov: true));
        Close([0.62, -1.81], trace[0]);
        Close([0.2224, -1.55705], trace[1]);
        Close([-0.108352, -1.26292525], trace[2]);
    }

    [Fact]
    public void AdamMatchesHandComputedSteps()
    {
        var trace = RunOnQuadratic(new Adam());
        Close([0.9000000005, -1.900000001], trace[0]);
        Close([0.8004122286917922, -1.8001664876318755], trace[1]);
        Close([0.7015862729460296, -1.7006233943434106], trace[2]);
    }

    [Fact]
    public void NesterovWithoutMomentumIsRejected()
    {
        var e = Assert.ThrowsAny<BasinException>(() => new Sgd(Nesterov: true).Bind([]));
        Assert.Contains("Nesterov", e.Message);
    }

    [Fact]
    public void AdamStateRoundTripsThroughLoadState()
    {
        // Two updaters: one runs 3 steps; the other loads its state after 2 and must make the same 3rd step.
        var a = new Parameter(tensor(new double[] { 1, -2 }));
        var b = new Parameter(tensor(new double[] { 1, -2 }));
        using var ua = new Adam().Bind([new NamedParameter("w", a)]);
        using var ub = new Adam().Bind([new NamedParameter("w", b)]);
        for (int t = 0; t < 3; t++)
        {
            using var scope = NewDisposeScope();
            if (t == 2)
            {
                var state = ua.State().ToDictionary(kv => kv.Key, kv => kv.Value);
                Assert.Equal(new[] { "exp_avg.w", "exp_avg_sq.w", "step" }, state.Keys.Order().ToArray());
                Assert.Equal(2L, state["step"].ToInt64());
                ub.LoadState(state);
                using (no_grad()) b.copy_(a);
            }
            a.grad = null;
            a.square().sum().backward();
            ua.Apply(0.1);
            if (t == 2)
            {
                b.grad = null;
                b.square().sum().backward();
                ub.Apply(0.1);
            }
        }
        TensorAssert.BitIdentical(a, b);
    }

    [Fact]
    public void LoadStateRejectsAMisshapenBuffer()
    {
        var w = new Parameter(zeros(3, dtype: float64));
        using var u = new Sgd(Momentum: 0.9).Bind([new NamedParameter("w", w)]);
        using var wrong = zeros(4, dtype: float64);
        var e = Assert.Throws<BasinException>(() => u.LoadState(new Dictionary<string, Tensor> { ["momentum_buffer.w"] = wrong }));
        Assert.Contains("shape [4]", e.Message);
    }
}
