using Basin.Tests.Flatness;
using Basin.Curvature;
using Basin.Flatness;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

public class HeadCurvatureTests
{
    [Fact]
    public void ProductsTraceAndKappaEqualAutogradHessianOfTheHead()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var head = HeadCurvature.Create(model, data, chunkSize: 7);
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, "fc3.weight"));
        using var scope = torch.NewDisposeScope();
        var fast = CurvatureMatrix.Full(head);
        var reference = CurvatureMatrix.Full(hvp);
        Assert.True(MaxAbs(fast - reference) < 1e-12 * MaxAbs(reference), $"max difference {MaxAbs(fast - reference)}");
        Assert.True(RelativeError(head.Trace(), reference.trace().ToDouble()) < 1e-12);
        var block = RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.Block).Value;
        Assert.True(RelativeError(head.Kappa(model.Head.weight!.detach()), block) < 1e-10);
    }

    [Fact]
    public void WeightDecayAndFeatureScalesAreTheOptionsCoordinates()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var scope = torch.NewDisposeScope();
        var sigma = torch.linspace(0.5, 2, 4, ScalarType.Float64);
        using var plain = HeadCurvature.Create(model, data);
        using var scaled = HeadCurvature.Create(model, data, scale: sigma, weightDecay: 0.1);
        // H' = D⁻¹ H D⁻¹ + 2α I on the input index.
        var d = sigma.reciprocal();
        var expected = CurvatureMatrix.Full(plain).reshape(3, 4, 3, 4).mul(d.reshape(1, 4, 1, 1)).mul(d.reshape(1, 1, 1, 4)).reshape(12, 12)
            .add(torch.eye(12, dtype: ScalarType.Float64).mul(0.2));
        Assert.True(MaxAbs(CurvatureMatrix.Full(scaled) - expected) < 1e-12);
        Assert.True(RelativeError(scaled.Trace(), expected.trace().ToDouble()) < 1e-12);
    }

    [Fact]
    public void LanczosRestartsPastTheRankOfALowRankHessian()
    {
        // The head's Hessian of 3 classes × 4 features has rank ≤ 2·4: one Krylov space ends early.
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var head = HeadCurvature.Create(model, data);
        using var scope = torch.NewDisposeScope();
        var exact = torch.linalg.eigvalsh(CurvatureMatrix.Full(head)).data<double>().ToArray().OrderByDescending(v => v).ToArray();
        var top = Lanczos.TopEigenvalues(head, 12, 1e-10, 100);
        Assert.Equal(12, top.Values.Count);
        Assert.True(top.Converged);
        for (int i = 0; i < 12; i++) Assert.True(Math.Abs(top.Values[i] - exact[i]) < 1e-10 * exact[0], $"λ_{i + 1}: {top.Values[i]} vs {exact[i]}");
    }
}
