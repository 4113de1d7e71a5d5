using Basin.Data;
using Basin.Geometry;
using Basin.Models;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Methods;

[Collection("torch global generator")]
public class FamTests
{
    static (Classifier Model, LabeledDataset Data) Problem()
    {
        var model = ModelSpec.Create("mlp:4", [5], 3, seed: 4);
        model.to(ScalarType.Float64);
        return (model, TinyData.Make(12, seed: 2, inputs: 5));
    }

    static double Loss(Classifier model, Batch batch, IObjectiveTerm[] terms)
    {
        using var scope = NewDisposeScope();
        return new Objective(terms).Evaluate(model, NamedParameter.Of(model), batch, default, batch.Size).Total.ToDouble();
    }

    [Fact]
    public void FullGradientEqualsFiniteDifferencesOfTheRegularizedLoss()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        IObjectiveTerm[] terms = [new CrossEntropy(), new Fam(0.7)];
        var grads = MethodFixtures.Gradient(model, batch, terms, data.Count);
        var parameters = NamedParameter.Of(model);
        MethodFixtures.AssertMatchesFiniteDifferences(parameters, grads, () => Loss(model, batch, terms));
    }

    [Fact]
    public void FamTermIsLambdaTimesTheMeasuredRelativeFlatness()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        double fam = Loss(model, MethodFixtures.WholeBatch(data), [new Fam(0.7)]);
        double kappa = RelativeFlatness.Measure(model, data, variant: FlatnessVariant.Block).Value;
        Assert.Equal(0.7 * kappa, fam, 1e-9);
    }

    [Fact]
    public void DetachedCurvatureHasTheSameValueAndAGradientOnlyThroughTheWeights()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        var full = new Fam(0.5);
        var detached = new Fam(0.5, Curvature: FamCurvature.Detached);
        Assert.Equal(Loss(model, batch, [full]), Loss(model, batch, [detached]), 1e-12);

        var g = MethodFixtures.Gradient(model, batch, [detached], data.Count);
        var names = NamedParameter.Of(model).Select(p => p.Name).ToList();
        // Only the head's weight gets a gradient: 2λ·T·W with T[s,t] = (1/N) Σ_n ‖φ_n‖² (diag p_n − p_n p_nᵀ)[s,t].
        using var _ = no_grad();
        var phi = model.Features(data.Inputs.to_type(ScalarType.Float64));
        var w = model.Head.weight!;
        var p = nn.functional.softmax(model.Head.forward(phi), 1);
        var t = zeros([3, 3], ScalarType.Float64);
        for (long n = 0; n < data.Count; n++)
            t.add_(diag(p[n]).sub(outer(p[n], p[n])).mul(phi[n].square().sum()));
        t.div_(data.Count);
        var expected = t.mm(w).mul(2 * 0.5);
        Assert.True(MethodFixtures.MaxAbsDiff(expected, g[names.IndexOf("fc2.weight")]) < 1e-12);
        foreach (var name in new[] { "fc1.weight", "fc1.bias", "fc2.bias" })
            Assert.Equal(0.0, g[names.IndexOf(name)].abs().max().ToDouble());
    }

    [Fact]
    public void EstimatorForAnInnerLayerIsUnbiased()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        double exact = RelativeFlatness.Measure(model, data, layer: "fc1", variant: FlatnessVariant.Block).Value;
        manual_seed(5);
        var fam = new Fam(1.0, Layer: "fc1");
        var samples = Enumerable.Range(0, 600).Select(_ => Loss(model, batch, [fam])).ToArray();
        double mean = samples.Average();
        double se = Math.Sqrt(samples.Select(x => (x - mean) * (x - mean)).Sum() / (samples.Length - 1) / samples.Length);
        Assert.True(Math.Abs(mean - exact) < 4 * se, $"estimate {mean} ± {se}, exact {exact}");
        Assert.True(se < 0.1 * exact, $"standard error {se} too large to be a check (exact {exact})");
    }

    [Fact]
    public void BadLayerOrLambdaIsRefusedBeforeTraining()
    {
        using var lenet = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 1);
        Assert.Contains("does not exist", Assert.Throws<BasinException>(() => new Fam(0.1, "fc9").Check(lenet)).Message);
        Assert.Contains("not a linear layer", Assert.Throws<BasinException>(() => new Fam(0.1, "conv1").Check(lenet)).Message);
        Assert.Contains("λ", Assert.Throws<BasinException>(() => new Fam(-0.1).Check(lenet)).Message);
        new Fam(0.1, "fc2").Check(lenet);
        new Fam(0.1, "fc3").Check(lenet);
    }
}
