using Basin.Tests.Curvature;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Flatness;

public class ReparametrizationTests
{
    static double OutputDifference(Classifier a, Classifier b, LabeledDataset data)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = data.Inputs.to_type(ScalarType.Float64);
        return MaxAbs(a.forward(x) - b.forward(x));
    }

    static double LayerHessianTrace(Classifier model, LabeledDataset data, string parameter)
    {
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, parameter));
        return HessianTrace.Exact(hvp);
    }

    [Fact]
    public void LayerWiseRescalingKeepsFunctionAndKappaWhileTheTraceScalesBySquaredFactor()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var scaled = Reparametrization.Copy(model);
        Assert.Equal(0, OutputDifference(model, scaled, data));
        const double a = 3;
        var rescaling = Reparametrization.ScaleLayer(scaled, "fc3", a);
        Assert.Equal(("fc2", "fc3"), (rescaling.PreviousLayer, rescaling.Layer));
        Assert.True(OutputDifference(model, scaled, data) < 1e-10);
        foreach (var variant in new[] { FlatnessVariant.ClosedForm, FlatnessVariant.Block })
            Assert.True(RelativeError(RelativeFlatness.Measure(scaled, data, "fc3", variant).Value, RelativeFlatness.Measure(model, data, "fc3", variant).Value) < 1e-5);
        // φ scales by a, so H by a²: the plain trace and λ_max are not invariant.
        Assert.True(RelativeError(LayerHessianTrace(scaled, data, "fc3.weight"), a * a * LayerHessianTrace(model, data, "fc3.weight")) < 1e-10);
        double LambdaMax(Classifier m) => RelativeFlatness.Measure(m, data, "fc3", FlatnessVariant.LayerWiseMaxEigenvalue, new() { EigenTolerance = 1e-10 }).Value;
        Assert.True(RelativeError(LambdaMax(scaled), LambdaMax(model)) < 1e-6);   // ‖W‖² λ_max: a⁻² · a²
    }

    [Fact]
    public void NeuronWiseRescalingIsSeenOnlyWithoutFeatureNormalization()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var scaled = Reparametrization.Copy(model);
        var rescalings = Reparametrization.Random(scaled, seed: 5, neuronWise: true);
        Assert.Equal(2, rescalings.Count);
        Assert.Equal(5, rescalings[0].Factors.Count);
        Assert.True(rescalings[0].Factors.Distinct().Count() == 5 && rescalings[0].Factors.All(f => f >= 0.25 && f <= 4));
        Assert.True(OutputDifference(model, scaled, data) < 1e-10);
        var normalized = new FlatnessOptions { NormalizeFeatures = true };
        double Kappa(Classifier m, FlatnessOptions? o) => RelativeFlatness.Measure(m, data, "fc2", FlatnessVariant.Block, o).Value;
        Assert.True(RelativeError(Kappa(scaled, normalized), Kappa(model, normalized)) < 1e-5);
        Assert.True(RelativeError(Kappa(scaled, null), Kappa(model, null)) > 1e-2);
        Assert.True(RelativeError(RelativeFlatness.Measure(scaled, data, options: normalized).Value, RelativeFlatness.Measure(model, data, options: normalized).Value) < 1e-5);
    }

    [Fact]
    public void LeNet5RescalingsKeepTheFunctionAcrossConvAndFlattenBoundaries()
    {
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 4, seed: 3);
        model.to(ScalarType.Float64);
        using var g = new torch.Generator(4);
        using var data = new LabeledDataset("images", torch.rand([5, 1, 28, 28], generator: g), torch.tensor(new long[] { 0, 1, 2, 3, 0 }), 4);
        using var scaled = Reparametrization.Copy(model);
        var rescalings = Reparametrization.Random(scaled, seed: 1, neuronWise: true);
        Assert.Equal(["conv1", "conv2", "fc1", "fc2"], rescalings.Select(r => r.PreviousLayer));
        Assert.True(OutputDifference(model, scaled, data) < 1e-10);
        // conv1's output channels were rescaled (its rows and bias): κ of conv1 does not see it.
        Assert.True(RelativeError(RelativeFlatness.Measure(scaled, data, "conv1", FlatnessVariant.Block).Value,
            RelativeFlatness.Measure(model, data, "conv1", FlatnessVariant.Block).Value) < 1e-5);

        using var layerWise = Reparametrization.Copy(model);
        Reparametrization.Random(layerWise, seed: 2);
        Assert.True(OutputDifference(model, layerWise, data) < 1e-10);
        Assert.True(RelativeError(RelativeFlatness.Measure(layerWise, data).Value, RelativeFlatness.Measure(model, data).Value) < 1e-5);
    }

    [Fact]
    public void RescalingNeedsReluAndALayerBefore()
    {
        using var tanh = SmallMlp("tanh");
        Assert.Contains("only for ReLU networks", Assert.Throws<BasinException>(() => Reparametrization.ScaleLayer(tanh, "fc2", 2)).Message);
        using var relu = SmallMlp("relu");
        Assert.Contains("first layer", Assert.Throws<BasinException>(() => Reparametrization.ScaleLayer(relu, "fc1", 2)).Message);
        Assert.Contains("positive", Assert.Throws<BasinException>(() => Reparametrization.ScaleLayer(relu, "fc2", -1)).Message);
        Assert.Contains("has 4 units", Assert.Throws<BasinException>(() => Reparametrization.ScaleNeurons(relu, "fc3", [1, 2])).Message);
    }
}
