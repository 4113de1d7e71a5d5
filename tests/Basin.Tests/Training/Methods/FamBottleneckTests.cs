using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

/// <summary>FAM and relative flatness on models with a bottleneck before the head (ModelSpec "…+bottleneck:K").</summary>
[Collection("torch global generator")]
public class FamBottleneckTests
{
    const int Inputs = 5, Classes = 3, Count = 12;

    static (BottleneckClassifier Model, LabeledDataset Data) Problem(string spec = "mlp:4+bottleneck:3")
    {
        var model = (BottleneckClassifier)ModelSpec.Create(spec, [Inputs], Classes, seed: 4);
        model.to(ScalarType.Float64);
        return (model, TinyData.Make(Count, seed: 2, inputs: Inputs, classes: Classes));
    }

    static double Loss(Classifier model, Batch batch, IObjectiveTerm[] terms, long? probeSeed)
    {
        using var scope = NewDisposeScope();
        if (probeSeed is { } s) manual_seed(s);
        return new Objective(terms).Evaluate(model, NamedParameter.Of(model), batch, default, batch.Size).Total.ToDouble();
    }

    [Theory]
    [InlineData("mlp:4+bottleneck:3", null)]
    [InlineData("mlp:4+bottleneck:3:tanh", null)]
    [InlineData("mlp:4+bottleneck:3", BottleneckClassifier.BottleneckName)]
    [InlineData("mlp:4:tanh+bottleneck:3:sigmoid", BottleneckClassifier.BottleneckName)]
    public void FamGradientEqualsFiniteDifferencesOfTheRegularizedLoss(string spec, string? layer)
    {
        var (model, data) = Problem(spec);
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        IObjectiveTerm[] terms = [new CrossEntropy(), new Fam(0.7, layer)];
        // The bottleneck is not the head, so FAM estimates its κ with random probes: the same probes for every evaluation.
        long? probes = layer is null ? null : 11;
        if (probes is { } s) manual_seed(s);
        var grads = MethodFixtures.Gradient(model, batch, terms, data.Count);
        var parameters = NamedParameter.Of(model);
        Assert.Contains(parameters, p => p.Name == "bottleneck.weight");
        Assert.True(grads[parameters.ToList().FindIndex(p => p.Name == "bottleneck.weight")].abs().max().ToDouble() > 1e-6);
        MethodFixtures.AssertMatchesFiniteDifferences(parameters, grads, () => Loss(model, batch, terms, probes));
    }

    [Fact]
    public void FamTargetsTheHeadOnTheBottleneckFeaturesByDefault()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        Assert.Equal("fc2", model.HeadName);
        Assert.Equal(new long[] { Classes, 3 }, model.Head.weight!.shape); // the head reads the k = 3 bottleneck features
        double fam = Loss(model, MethodFixtures.WholeBatch(data), [new Fam(0.7)], null);
        double kappa = RelativeFlatness.Measure(model, data, variant: FlatnessVariant.Block).Value;
        Assert.Equal(0.7 / 3 * kappa, fam, 1e-9);                          // λ/m with m = the k = 3 bottleneck features
        Assert.Equal(fam, Loss(model, MethodFixtures.WholeBatch(data), [new Fam(0.7, "fc2")], null), 1e-12);
    }

    [Fact]
    public void FamLayerLookupKnowsTheBottleneck()
    {
        var (model, data) = Problem("mlp:4+bottleneck:3:relu");
        using var _m = model;
        using var _d = data;
        new Fam(0.1, BottleneckClassifier.BottleneckName).Check(model);
        new Fam(0.1, "fc1").Check(model);
        var e = Assert.Throws<BasinException>(() => new Fam(0.1, "fc3").Check(model));
        Assert.Contains("linear layers: fc1, bottleneck, fc2", e.Message);
    }

    /// <summary>κ_Tr of the bottleneck by brute force: the full Hessian of the mean cross-entropy by W_b, in float64.</summary>
    static double BottleneckKappaByBruteForce(BottleneckClassifier model, LabeledDataset data)
    {
        using var scope = NewDisposeScope();
        using var plain = ModelSpec.Create("mlp:4", [Inputs], Classes, seed: 4); // the same trunk weights, by construction order
        plain.to(ScalarType.Float64);
        var x = data.Inputs.to_type(ScalarType.Float64);
        var phi = plain.Features(x).detach();
        var wb = model.Bottleneck.weight!.detach().clone().requires_grad_(true);
        var logits = nn.functional.linear(nn.functional.linear(phi, wb, model.Bottleneck.bias!.detach()), model.Head.weight!.detach(), model.Head.bias!.detach());
        var loss = nn.functional.cross_entropy(logits, data.Labels);
        var g = torch.autograd.grad([loss], [wb], create_graph: true, retain_graph: true)[0].view(-1);
        long n = wb.numel(), d = wb.shape[0], m = wb.shape[1];
        var hessian = zeros([n, n], ScalarType.Float64);
        for (long i = 0; i < n; i++)
            hessian[i] = torch.autograd.grad([g[i]], [wb], retain_graph: true)[0].view(-1);
        var t = hessian.reshape(d, m, d, m).diagonal(0, 1, 3).sum(-1); // T[s,t] = Tr(H_{s,t})
        var w = wb.detach();
        return w.mm(w.T).mul(t).sum().ToDouble();
    }

    [Fact]
    public void MeasureJobMeasuresEveryLayerOfABottleneckModel()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var spec = new MeasureSpec { Layer = "all", Measures = [GeometryMeasures.RelativeFlatness, GeometryMeasures.HessianTrace], Samples = null };
        var result = MeasureJob.Measure(model, data, spec);
        Assert.Equal("mlp:4:relu+bottleneck:3", result.Model);
        Assert.Equal(["fc1", "bottleneck", "fc2", MeasureJob.AllParameters], result.Layers.Select(l => l.Layer).ToArray());
        var byName = result.Layers.ToDictionary(l => l.Layer);
        double headKappa = RelativeFlatness.Measure(model, data).Value; // closed form, on Features(x) = the bottleneck output
        Assert.Equal(headKappa, byName["fc2"].RelativeFlatness!.Value, 1e-9);
        double bottleneckKappa = BottleneckKappaByBruteForce(model, data);
        Assert.True(bottleneckKappa > 0);
        Assert.Equal(bottleneckKappa, byName["bottleneck"].RelativeFlatness!.Value, 1e-9);
        Assert.True(byName["fc1"].RelativeFlatness!.Value > 0);
    }

    [Fact]
    public void LayerInputsOfTheHeadAndTheBottleneckAreReplayedAndOthersRefusedClearly()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        using var scope = NewDisposeScope();
        var x = data.Inputs.to_type(ScalarType.Float64);
        var head = LayerInputs.Capture(model, FlatLayer.Resolve(model, null), x);
        Assert.True(MethodFixtures.MaxAbsDiff(head, model.Features(x)) == 0);
        Assert.Equal(new long[] { Count, 3 }, head.shape);
        // The bottleneck runs through call(), so its input (the trunk's features) is caught by a forward pre-hook.
        using var plain = ModelSpec.Create("mlp:4", [Inputs], Classes, seed: 4);
        plain.to(ScalarType.Float64);
        var bottleneck = LayerInputs.Capture(model, FlatLayer.Resolve(model, BottleneckClassifier.BottleneckName), x);
        Assert.True(MethodFixtures.MaxAbsDiff(bottleneck, plain.Features(x)) == 0);
        // The trunk's inner layers are not replayed for a bottleneck model (it is not an Mlp): a clear error, no crash.
        var e = Assert.Throws<BasinException>(() => LayerInputs.Capture(model, FlatLayer.Resolve(model, "fc1"), x));
        Assert.Contains("cannot capture the input of layer 'fc1'", e.Message);
        // Feature-normalized flatness of the bottleneck uses those captured inputs.
        var normalized = RelativeFlatness.Measure(model, data, BottleneckClassifier.BottleneckName, FlatnessVariant.Block, new FlatnessOptions { NormalizeFeatures = true });
        Assert.True(normalized.FeaturesNormalized && normalized.Value > 0);
    }
}
