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

public class RelativeFlatnessTests
{
    /// <summary>κ_Tr straight from the definition over an explicit Hessian [dm,dm] of W [d,m]: Σ_{s,t} ⟨W_s,W_t⟩ Σ_k H[(s,k),(t,k)].</summary>
    static double KappaFromHessian(Tensor h, Tensor w)
    {
        long d = w.shape[0], m = w.shape[1];
        var hd = h.data<double>().ToArray();
        var wd = w.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        double kappa = 0;
        for (long s = 0; s < d; s++)
            for (long t = 0; t < d; t++)
            {
                double inner = 0, trace = 0;
                for (long k = 0; k < m; k++)
                {
                    inner += wd[s * m + k] * wd[t * m + k];
                    trace += hd[(s * m + k) * (d * m) + t * m + k];
                }
                kappa += inner * trace;
            }
        return kappa;
    }

    [Fact]
    public void ClosedFormEqualsBlockComputationAndTheDefinition()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var closed = RelativeFlatness.Measure(model, data, variant: FlatnessVariant.ClosedForm, options: new() { ChunkSize = 7 });
        var block = RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.Block);
        Assert.Equal("fc3", closed.Layer);
        Assert.Equal(40, closed.Samples);
        Assert.Equal(12, block.HessianVectorProducts);
        Assert.True(RelativeError(closed.Value, block.Value) < 1e-6, $"{closed.Value} vs {block.Value}");
        var h = BruteForceHessian(model, data, ParameterSet.Select(model, "fc3.weight"));
        Assert.True(RelativeError(block.Value, KappaFromHessian(h, model.Head.weight!.detach())) < 1e-10);

        // Every option changes both the same way.
        var options = new FlatnessOptions { Normalized = true, WeightDecay = 0.01, NormalizeFeatures = true };
        var closedOpt = RelativeFlatness.Measure(model, data, variant: FlatnessVariant.ClosedForm, options: options);
        var blockOpt = RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.Block, options);
        Assert.True(RelativeError(closedOpt.Value, blockOpt.Value) < 1e-6, $"{closedOpt.Value} vs {blockOpt.Value}");
        Assert.True(closedOpt.Normalized && closedOpt.FeaturesNormalized && closedOpt.WeightDecay == 0.01);
    }

    [Fact]
    public void WeightDecayAddsTwoAlphaToTheHessianDiagonalInEveryVariant()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        double alpha = 0.05, norm2 = model.Head.weight!.square().sum().ToDouble(), m = 4;
        double Value(FlatnessVariant v, double a, bool normalized = false) =>
            RelativeFlatness.Measure(model, data, "fc3", v, new FlatnessOptions { WeightDecay = a, Normalized = normalized }).Value;
        Assert.True(RelativeError(Value(FlatnessVariant.Block, alpha) - Value(FlatnessVariant.Block, 0), 2 * alpha * m * norm2) < 1e-8);
        Assert.True(RelativeError(Value(FlatnessVariant.ClosedForm, alpha, true) - Value(FlatnessVariant.ClosedForm, 0, true), 2 * alpha * norm2) < 1e-8);
        Assert.True(RelativeError(Value(FlatnessVariant.NeuronWiseMaxEigenvalue, alpha) - Value(FlatnessVariant.NeuronWiseMaxEigenvalue, 0), 2 * alpha * norm2) < 1e-5);
        Assert.True(RelativeError(Value(FlatnessVariant.LayerWiseMaxEigenvalue, alpha) - Value(FlatnessVariant.LayerWiseMaxEigenvalue, 0), 2 * alpha * norm2) < 1e-5);
    }

    [Fact]
    public void TraceTermIsDifferentiableAndMatchesTheMeasure()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var phi = model.Features(data.Inputs.to_type(ScalarType.Float64)).detach();
        var w = model.Head.weight!.detach().clone().requires_grad_(true);
        var kappa = RelativeFlatness.TraceTerm(phi, w, model.Head.bias!.detach());
        Assert.True(RelativeError(kappa.ToDouble(), RelativeFlatness.Measure(model, data).Value) < 1e-12);
        var grad = torch.autograd.grad([kappa], [w])[0];
        // κ_Tr is invariant to adding one vector to every row of W (softmax shift) — its gradient sums to zero over rows.
        Assert.True(MaxAbs(grad.sum(dim: 0)) < 1e-12 && MaxAbs(grad) > 1e-6);
        Assert.Throws<BasinException>(() => RelativeFlatness.TraceTerm(phi, w.T));
    }

    [Fact]
    public void RankOneEstimatorIsWithinThreeStandardErrorsForAnyLossAndLayer()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var mse = new FlatnessOptions { Loss = (z, y) => (z - nn.functional.one_hot(y, 3).to_type(z.dtype)).pow(2).sum(1).mean() };
        foreach (var (layer, options) in new[] { ("fc3", new FlatnessOptions()), ("fc2", new FlatnessOptions()), ("fc2", mse) })
        {
            var exact = RelativeFlatness.Measure(model, data, layer, FlatnessVariant.Block, options);
            var estimate = RelativeFlatness.Measure(model, data, layer, FlatnessVariant.Estimator, options with { RelativeStandardError = 0.03, Seed = 4 });
            Assert.NotNull(estimate.StandardError);
            Assert.Equal(estimate.Probes, (int)estimate.HessianVectorProducts);
            Assert.True(Math.Abs(estimate.Value - exact.Value) <= 3 * estimate.StandardError!.Value,
                $"{layer}: {estimate.Value} ± {estimate.StandardError} vs {exact.Value}");
        }
    }

    [Fact]
    public void EigenvalueAndLayerWiseVariantsMatchTheFullLayerHessian()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var w = model.named_parameters().Single(p => p.name == "fc2.weight").parameter.detach();   // [4,5]
        var h = BruteForceHessian(model, data, ParameterSet.Select(model, "fc2.weight")).reshape(4, 5, 4, 5);
        double kappaLambda = 0;
        for (int s = 0; s < 4; s++)
            kappaLambda += w[s].square().sum().ToDouble() * torch.linalg.eigvalsh(h[s, TensorIndex.Colon, s]).max().ToDouble();
        double norm2 = w.square().sum().ToDouble();
        var full = h.reshape(20, 20);
        var neuron = RelativeFlatness.Measure(model, data, "fc2", FlatnessVariant.NeuronWiseMaxEigenvalue, new() { EigenTolerance = 1e-10 });
        Assert.True(RelativeError(neuron.Value, kappaLambda) < 1e-8, $"{neuron.Value} vs {kappaLambda}");
        var layerMax = RelativeFlatness.Measure(model, data, "fc2", FlatnessVariant.LayerWiseMaxEigenvalue, new() { EigenTolerance = 1e-10 });
        Assert.True(RelativeError(layerMax.Value, norm2 * torch.linalg.eigvalsh(full).max().ToDouble()) < 1e-8);
        var layerTrace = RelativeFlatness.Measure(model, data, "fc2", FlatnessVariant.LayerWiseTrace, new() { RelativeStandardError = 0.02 });
        Assert.True(Math.Abs(layerTrace.Value - norm2 * full.trace().ToDouble() / 20) <= 3 * layerTrace.StandardError!.Value);
        Assert.False(layerTrace.Normalized);
    }

    [Fact]
    public void ConvLayerFlatnessReadsTheWeightAsOutByInTimesKernel()
    {
        using var scope = torch.NewDisposeScope();
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 3, seed: 2);
        model.to(ScalarType.Float64);
        using var g = new torch.Generator(9);
        using var data = new LabeledDataset("images", torch.rand([6, 1, 28, 28], generator: g), torch.tensor(new long[] { 0, 1, 2, 0, 1, 2 }), 3);
        var block = RelativeFlatness.Measure(model, data, "conv1", FlatnessVariant.Block);
        Assert.Equal(150, block.HessianVectorProducts);
        var conv = model.named_parameters().Single(p => p.name == "conv1.weight").parameter.detach();
        var h = BruteForceHessian(model, data, ParameterSet.Select(model, "conv1.weight"));
        Assert.True(RelativeError(block.Value, KappaFromHessian(h, conv.reshape(6, 25))) < 1e-8, $"{block.Value}");
        var estimate = RelativeFlatness.Measure(model, data, "conv1", FlatnessVariant.Estimator, new() { RelativeStandardError = 0.05, Seed = 1 });
        Assert.True(Math.Abs(estimate.Value - block.Value) <= 3 * estimate.StandardError!.Value, $"{estimate.Value} ± {estimate.StandardError} vs {block.Value}");
    }

    [Fact]
    public void BadLayersAndEmptyDataAreRejected()
    {
        using var model = SmallMlp();
        using var data = ToyData(8);
        var e = Assert.Throws<BasinException>(() => RelativeFlatness.Measure(model, data, "fc7"));
        Assert.Equal("unknown layer 'fc7'; linear and conv layers: fc1, fc2, fc3", e.Message);
        e = Assert.Throws<BasinException>(() => RelativeFlatness.Measure(model, data, "fc2", FlatnessVariant.ClosedForm));
        Assert.Contains("closed form holds for the head (fc3)", e.Message);
        using var resnet = ModelSpec.Create("resnet", [1, 8, 8], 3, seed: 0);
        e = Assert.Throws<BasinException>(() => RelativeFlatness.Measure(resnet, data, "bn1"));
        Assert.StartsWith("layer 'bn1' is a BatchNorm2d; relative flatness needs a Linear or Conv2d layer", e.Message);
        using var empty = new LabeledDataset("empty", torch.zeros(0, 6), torch.zeros(0, ScalarType.Int64), 3);
        e = Assert.Throws<BasinException>(() => RelativeFlatness.Measure(model, empty));
        Assert.Contains("no examples", e.Message);
        e = Assert.Throws<BasinException>(() => RelativeFlatness.Measure(model, empty, "fc2", FlatnessVariant.Estimator));
        Assert.Contains("no examples", e.Message);
    }
}
