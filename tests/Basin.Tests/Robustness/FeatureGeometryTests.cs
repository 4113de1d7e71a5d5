using Basin.Models;
using Basin.Robustness;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Robustness;

/// <summary>The per-sample decomposition of the head: exact values on a hand case, invariances, and the logits rebuilt.</summary>
public class FeatureGeometryTests
{
    [Fact]
    public void HandCaseGivesTheAnglesAndBothMargins()
    {
        // h = (1, 0), W = I, b = 0, y = 0: θ₀ = 0°, θ₁ = 90°, m_z = 1, m_geo = 1/√2, angular margin 1.
        var g = FeatureGeometry.Of([1.0, 0.0], [1, 0, 0, 1], [0, 0], [1.0, 0.0], 0);
        Assert.True(g.Correct);
        Assert.Equal(0, g.Prediction);
        Assert.Equal(0, g.ThetaY, 12);
        Assert.Equal(90, g.ThetaOtherMin, 12);
        Assert.Equal(1, g.LogitMargin, 12);
        Assert.Equal(1 / Math.Sqrt(2), g.GeometricMargin, 12);
        Assert.Equal(1, g.AngularMargin, 12);
        Assert.Equal(1, g.FeatureNorm);
        Assert.Equal(1, g.WeightNormY);
        Assert.Equal(Math.E / (Math.E + 1), g.ProbabilityY, 12);
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), g.Loss, 12);
        Assert.Equal(0, g.BiasShare);

        // The same sample labelled 1 is wrong: both margins flip sign, θ_y = 90°, θ_pred = 0°.
        var wrong = FeatureGeometry.Of([1.0, 0.0], [1, 0, 0, 1], [0, 0], [1.0, 0.0], 1);
        Assert.False(wrong.Correct);
        Assert.Equal((-1, -1 / Math.Sqrt(2), 90, 0), (wrong.LogitMargin, wrong.GeometricMargin, wrong.ThetaY, wrong.ThetaPred));
    }

    [Fact]
    public void GeometricMarginIsTheDistanceToTheDecisionBoundaryWithBias()
    {
        // W = [[2, 0], [0, 1], [−1, −1]], b = (0.5, 0, 1), h = (1, 1): z = (2.5, 1, −1), y = 0.
        // Against class 1: 1.5/‖(2, −1)‖ = 1.5/√5; against class 2: 3.5/‖(3, 1)‖ = 3.5/√10; the minimum is 1.5/√5.
        double[] w = [2, 0, 0, 1, -1, -1], b = [0.5, 0, 1];
        var g = FeatureGeometry.Of([1.0, 1.0], w, b, [2.5, 1.0, -1.0], 0);
        Assert.Equal(1.5 / Math.Sqrt(5), g.GeometricMargin, 12);
        Assert.Equal(1.5, g.LogitMargin, 12);
        // The point h − m_geo·(W₀ − W₁)/‖W₀ − W₁‖ lies on the boundary z₀ = z₁.
        double[] d = [2 / Math.Sqrt(5), -1 / Math.Sqrt(5)];
        double[] p = [1 - g.GeometricMargin * d[0], 1 - g.GeometricMargin * d[1]];
        Assert.Equal(2 * p[0] + 0.5, p[1], 12);
        // Bias share of the runner-up (class 1): |0.5 − 0| against ‖h‖·|‖W₀‖cos θ₀ − ‖W₁‖cos θ₁| = |2 − 1| = 1.
        Assert.Equal(0.5 / 1.5, g.BiasShare, 12);
    }

    [Fact]
    public void ScalingTheFeatureScalesLengthAndMarginsAndKeepsAngles()
    {
        var random = new Random(3);
        double[] w = Enumerable.Range(0, 12).Select(_ => random.NextDouble() - 0.5).ToArray(), b = new double[3];
        double[] h = [0.3, -0.7, 1.1, 0.2];
        double[] Logits(double[] x) => Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, 4).Sum(j => w[c * 4 + j] * x[j])).ToArray();
        var g = FeatureGeometry.Of(h, w, b, Logits(h), 1);
        var hs = h.Select(x => 2.5 * x).ToArray();
        var s = FeatureGeometry.Of(hs, w, b, Logits(hs), 1);
        Assert.Equal(g.ThetaY, s.ThetaY, 10);
        Assert.Equal(g.ThetaOtherMin, s.ThetaOtherMin, 10);
        Assert.Equal(g.AngularMargin, s.AngularMargin, 12);
        Assert.Equal(2.5 * g.FeatureNorm, s.FeatureNorm, 12);
        Assert.Equal(2.5 * g.LogitMargin, s.LogitMargin, 12);
        Assert.Equal(2.5 * g.GeometricMargin, s.GeometricMargin, 12);
        Assert.Equal(Math.Sign(g.LogitMargin), Math.Sign(g.GeometricMargin));
        Assert.Equal(g.Correct, g.LogitMargin > 0);
    }

    [Fact]
    public void AZeroFeatureHasNaNAnglesAndIsFlagged()
    {
        var g = FeatureGeometry.Of([0.0, 0.0], [1, 0, 0, 1], [0.2, 0], [0.2, 0.0], 1);
        Assert.True(g.ZeroFeature);
        Assert.True(double.IsNaN(g.ThetaY) && double.IsNaN(g.ThetaOtherMin) && double.IsNaN(g.AngularMargin));
        Assert.Equal(0, g.FeatureNorm);
        Assert.Equal(-0.2, g.LogitMargin, 12);   // the margins still come from the bias
        Assert.False(g.Correct);
    }

    [Theory]
    [InlineData("mlp:12,7")]
    [InlineData("lenet5")]
    public void TheDecompositionReproducesTheModelsLogits(string spec)
    {
        using var scope = NewDisposeScope();
        using var model = ModelSpec.Create(spec, [1, 28, 28], 10, 5);
        model.to(ScalarType.Float64);
        model.eval();
        var x = rand([16, 1, 28, 28], ScalarType.Float64, generator: manual_seed(2));
        var (h, logits) = FeatureGeometry.Forward(model, x);
        using var expected = model.forward(x);
        Training.TensorAssert.BitIdentical(expected, logits, "logits");
        Assert.Equal(spec == "lenet5" ? 84 : 7, h.shape[1]);
        var (w, b) = FeatureGeometry.Head(model);
        var hv = h.data<double>().ToArray();
        var zv = logits.data<double>().ToArray();
        int m = (int)h.shape[1];
        for (int i = 0; i < 16; i++)
        {
            var parts = FeatureGeometry.Decompose(hv.AsSpan(i * m, m), w, b);
            for (int c = 0; c < 10; c++) Assert.True(Math.Abs(parts[c].Logit - zv[i * 10 + c]) < 1e-6, $"sample {i}, class {c}");
        }
        var labels = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 10)).ToArray());
        var all = FeatureGeometry.Of(h, logits, labels, w, b);
        Assert.All(all, g => Assert.Equal(g.Correct, g.GeometricMargin > 0));
        Assert.All(all, g => Assert.Equal(g.Correct, g.LogitMargin > 0));
    }
}
