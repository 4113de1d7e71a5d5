using Basin.Curvature;
using Basin.Flatness;
using Basin.Landscape;
using Basin.Models;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Landscape;

public class DirectionsTests
{
    static double Norm(Tensor t)
    {
        using var n = t.norm();
        return n.ToDouble();
    }

    [Fact]
    public void FilterNormalizedRowsHaveTheWeightsRowNormsAndBiasesFollowTheBiasMode()
    {
        using var scope = torch.NewDisposeScope();
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 3);
        var named = model.named_parameters().ToArray();
        var d = Directions.Random(model, seed: 123);
        Assert.Equal(named.Length, d.Length);
        for (int i = 0; i < named.Length; i++)
        {
            var p = named[i].parameter;
            if (p.dim() > 1)
                for (long r = 0; r < p.shape[0]; r++)
                {
                    double expected = Norm(p[r]), actual = Norm(d[i][r]);
                    Assert.True(Math.Abs(actual - expected) <= 1e-6 * expected, $"{named[i].name} row {r}: {actual} vs {expected}");
                }
            else Assert.Equal(0, Norm(d[i]));
        }
        // Conv kernels are normalized per output channel, not per tensor: two channels of one kernel get different norms.
        int conv = Array.FindIndex(named, np => np.name == "conv1.weight");
        Assert.NotEqual(Norm(d[conv][0]), Norm(d[conv][1]));
        var copy = Directions.Random(model, seed: 123, bias: BiasMode.Copy);
        var random = Directions.Random(model, seed: 123, bias: BiasMode.Random);
        int bias = Array.FindIndex(named, np => np.name == "fc3.bias");
        Assert.True(copy[bias].equal(named[bias].parameter).all().item<bool>());
        Assert.True(Math.Abs(Norm(random[bias]) - Norm(named[bias].parameter)) <= 1e-6 * Norm(named[bias].parameter));
        // The weights' directions do not depend on the bias mode, and the same seed gives the same direction.
        Assert.True(copy[conv].equal(d[conv]).all().item<bool>());
        Assert.True(Directions.Random(model, seed: 123)[conv].equal(d[conv]).all().item<bool>());
        Assert.False(Directions.Random(model, seed: 124)[conv].equal(d[conv]).all().item<bool>());
    }

    [Fact]
    public void LayerNormalizationGivesEachWeightTensorItsNorm()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("relu");
        var ps = model.parameters().ToArray();
        var d = Directions.Random(model, seed: 5, norm: DirectionNorm.Layer);
        for (int i = 0; i < ps.Length; i++)
            if (ps[i].dim() > 1) Assert.True(Math.Abs(Norm(d[i]) - Norm(ps[i])) <= 1e-10 * Norm(ps[i]));
    }

    [Fact]
    public void BetweenIsTheDifferenceAndRefusesOtherArchitectures()
    {
        using var scope = torch.NewDisposeScope();
        using var a = SmallMlp("relu", seed: 1);
        using var b = SmallMlp("relu", seed: 2);
        var d = Directions.Between(a, b);
        var pa = a.parameters().ToArray();
        var pb = b.parameters().ToArray();
        for (int i = 0; i < d.Length; i++) Assert.True(d[i].equal(pb[i] - pa[i]).all().item<bool>());
        using var wide = ModelSpec.Create("mlp:7,4:relu", [6], 3, 1);
        wide.to(ScalarType.Float64);
        var e = Assert.Throws<BasinException>(() => Directions.Between(a, wide));
        Assert.Contains("different architectures", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void HessianEigenvectorsMatchTheFullHessian()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("tanh");
        using var data = ToyData();
        var h = BruteForceHessian(model, data, ParameterSet.All(model));
        var (values, vectors) = torch.linalg.eigh(h);
        long n = values.shape[0];
        var (dirs, top) = Directions.HessianEigenvectors(model, data, k: 2, maxSteps: (int)n, seed: 4);
        for (int i = 0; i < 2; i++)
        {
            double expected = values[n - 1 - i].ToDouble();
            Assert.True(Math.Abs(top[i] - expected) <= 1e-8 * Math.Abs(expected), $"λ{i + 1}: {top[i]} vs {expected}");
            var flat = ParamVectors.Flatten(dirs[i]);
            Assert.True(Math.Abs(Norm(flat) - 1) < 1e-10);
            double cosine = Math.Abs(torch.dot(flat, vectors[.., n - 1 - i]).ToDouble());
            Assert.True(cosine > 1 - 1e-8, $"eigenvector {i + 1}: |cos| = {cosine}");
        }
    }
}
