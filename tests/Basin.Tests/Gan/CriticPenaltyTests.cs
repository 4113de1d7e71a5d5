using Basin.Gan;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class CriticPenaltyTests
{
    // f(x) = ⟨a, x⟩ has ∇f = a everywhere, so every gradient norm is ‖a‖.
    static Func<Tensor, Tensor> LinearCritic(double a0, double a1)
    {
        var a = tensor(new[] { a0, a1 }, ScalarType.Float64);
        return x => torch.mv(x, a);
    }

    static Tensor Points() => randn(32, 2, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(1));

    [Fact]
    public void LipschitzPenaltyIsZeroForAOneLipschitzCriticWhileGradientPenaltyIsNot()
    {
        using var x = Points();
        var critic = LinearCritic(0.3, 0.4); // ‖a‖ = 0.5
        using var norms = CriticPenalty.GradientNorms(critic, x);
        Assert.All(norms.data<double>().ToArray(), n => Assert.Equal(0.5, n, 14));
        using var lp = CriticPenalty.Compute(LipschitzRegularization.LipschitzPenalty, critic, x);
        using var gp = CriticPenalty.Compute(LipschitzRegularization.GradientPenalty, critic, x);
        Assert.Equal(0.0, lp.item<double>());
        Assert.Equal(0.25, gp.item<double>(), 14);
    }

    [Fact]
    public void BothPenaltiesAgreeWhereEveryNormExceedsOne()
    {
        using var x = Points();
        var critic = LinearCritic(1.8, -2.4); // ‖a‖ = 3
        using var lp = CriticPenalty.Compute(LipschitzRegularization.LipschitzPenalty, critic, x);
        using var gp = CriticPenalty.Compute(LipschitzRegularization.GradientPenalty, critic, x);
        Assert.Equal(4.0, lp.item<double>(), 13);
        Assert.Equal(4.0, gp.item<double>(), 13);
    }

    [Theory]
    [InlineData(LipschitzRegularization.GradientPenalty)]
    [InlineData(LipschitzRegularization.LipschitzPenalty)]
    public void PenaltyGradientWrtCriticParametersMatchesCentralDifferences(LipschitzRegularization kind)
    {
        // A tiny smooth critic in float64: 2 → 4 (tanh) → 1; scaled up so that many norms exceed 1 and LP is active.
        torch.random.manual_seed(11);
        var critic = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1));
        critic.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in critic.parameters()) p.mul_(4);
        using var x = Points();
        Func<Tensor, Tensor> f = t => critic.forward(t).squeeze(1);

        using var penalty = CriticPenalty.Compute(kind, f, x);
        Assert.True(penalty.item<double>() > 0.01, $"penalty {penalty.item<double>()} should be active");
        critic.zero_grad();
        penalty.backward();

        const double h = 1e-6;
        foreach (var (name, p) in critic.named_parameters())
        {
            // ∇ₓf does not depend on the output bias, so autograd leaves its gradient undefined: it is 0.
            var analytic = p.grad is null ? new double[p.numel()] : p.grad.flatten().data<double>().ToArray();
            for (int i = 0; i < analytic.Length; i++)
            {
                double Value(double delta)
                {
                    using (torch.no_grad()) p.flatten()[i].add_(delta);
                    using var v = CriticPenalty.Compute(kind, f, x);
                    return v.item<double>();
                }
                double plus = Value(h), minus = Value(-2 * h);
                Value(h);
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 + 1e-6 * Math.Abs(numeric), $"{name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void InterpolatesLieOnTheSegmentsAndPerturbationsAroundRealPoints()
    {
        using var real = randn(200, 2, generator: new TorchSharp.torch.Generator(2));
        using var fake = randn(200, 2, generator: new TorchSharp.torch.Generator(3)) + 3;
        using var rng = new TorchSharp.torch.Generator(4);
        using var onLines = CriticPenalty.SamplePoints(PenaltySampling.Interpolates, real, fake, 0.1, rng);
        // x̂ − fake = t (real − fake) with the same t in both coordinates, t ∈ [0, 1].
        using var t = (onLines - fake) / (real - fake);
        var ts = t.data<float>().ToArray();
        for (int i = 0; i < 200; i++)
        {
            Assert.InRange(ts[2 * i], -1e-4f, 1 + 1e-4f);
            Assert.Equal(ts[2 * i], ts[2 * i + 1], 3);
        }

        using var nearby = CriticPenalty.SamplePoints(PenaltySampling.RealPerturbations, real, fake, 0.1, rng);
        using var noise = nearby - real;
        Assert.InRange(noise.std().item<float>(), 0.09f, 0.11f);
        Assert.InRange(noise.mean().item<float>(), -0.02f, 0.02f);
    }

    [Fact]
    public void ClippingKeepsEveryWeightWithinTheBound()
    {
        using var critic = new MlpCritic(2, new[] { 16, 16 }, seed: 1);
        using (torch.no_grad())
            foreach (var p in critic.parameters()) p.mul_(10);
        Assert.Contains(critic.parameters(), p => p.abs().max().item<float>() > 0.01f);
        CriticPenalty.ClipWeights(critic, 0.01);
        foreach (var p in critic.parameters())
        {
            Assert.True(p.abs().max().item<float>() <= 0.01f);
            Assert.True(p.abs().max().item<float>() == 0.01f, "large weights are clamped to the bound itself");
        }
    }

    [Fact]
    public void RejectsCriticsThatDoNotScoreEachSample()
    {
        using var x = Points();
        var e = Assert.Throws<BasinException>(() => CriticPenalty.GradientNorms(t => t, x));
        Assert.Equal("critic must return one score per sample ([32] or [32,1]), got [32,2]", e.Message);
        var constant = tensor(new[] { 1.0 }, ScalarType.Float64, requires_grad: true);
        var ignoresInput = Assert.Throws<BasinException>(() => CriticPenalty.GradientNorms(t => constant.expand(t.shape[0]) * 2, x));
        Assert.Equal("critic scores do not depend on the penalty points", ignoresInput.Message);
        Assert.Throws<BasinException>(() => CriticPenalty.GradientNorms(t => torch.zeros(t.shape[0], ScalarType.Float64), x));
    }
}
