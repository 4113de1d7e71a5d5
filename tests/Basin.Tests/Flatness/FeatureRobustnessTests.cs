using Basin.Tests.Curvature;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Flatness;

public class FeatureRobustnessTests
{
    [Fact]
    public void RandomOrthogonalMatricesAreOrthogonal()
    {
        using var g = new torch.Generator(1);
        using var q = FeatureRobustness.RandomOrthogonal(7, g);
        using var qtq = q.T.mm(q);
        Assert.True(MaxAbs(qtq - torch.eye(7, dtype: ScalarType.Float64)) < 1e-12);
    }

    [Fact]
    public void AtAMinimumOfTheLayerEmpiricalRobustnessMatchesTheSecondOrderPrediction()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("tanh", seed: 3);
        using var data = ToyData(40, seed: 2);
        // Newton steps on the head weight alone reach its minimum (CE is convex in W; random labels keep it finite).
        // The pseudo-inverse handles the softmax direction (the same vector added to every row) where H is singular.
        var head = ParameterSet.Select(model, "fc3.weight");
        double gradNorm = double.PositiveInfinity;
        for (int step = 0; step < 30 && gradNorm > 1e-11; step++)
        {
            using var hvp = new HessianVectorProduct(model, data, head);
            var grad = ParamVectors.Flatten(hvp.Gradient());
            gradNorm = grad.norm().ToDouble();
            var newton = torch.linalg.pinv(CurvatureMatrix.Full(hvp), hermitian: true).mv(grad);
            using (torch.no_grad()) model.Head.weight!.sub_(newton.reshape(3, 4));
        }
        Assert.True(gradNorm < 1e-11, $"gradient norm {gradNorm}");

        var result = FeatureRobustness.Measure(model, data, [0.05, 0.01], samples: 400, seed: 3);
        Assert.Equal(FlatnessVariant.ClosedForm, result.KappaVariant);
        Assert.Equal(4, result.Columns);
        foreach (var p in result.Points)
        {
            Assert.True(RelativeError(p.Predicted, p.Delta * p.Delta * result.Kappa / 8) < 1e-12);
            Assert.True(p.Empirical > 0);
        }
        var small = result.Points[1];
        Assert.True(Math.Abs(small.Empirical - small.Predicted) <= 3 * small.StandardError + 0.02 * small.Predicted,
            $"E_F {small.Empirical} ± {small.StandardError} vs δ²κ/(2m) {small.Predicted}");
        // The weight is restored.
        Assert.True(RelativeError(RelativeFlatness.Measure(model, data).Value, result.Kappa) < 1e-12);
    }
}
