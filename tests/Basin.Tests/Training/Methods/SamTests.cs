using Basin.Data;
using Basin.Models;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

public class SamTests
{
    static (Classifier Model, LabeledDataset Data) Problem()
    {
        var model = ModelSpec.Create("mlp:6", [5], 3, seed: 7);
        model.to(ScalarType.Float64);
        return (model, TinyData.Make(16, seed: 3, inputs: 5));
    }

    static double Norm(IEnumerable<Tensor> ts) => Math.Sqrt(ts.Sum(t => t.square().sum().ToDouble()));

    [Fact]
    public void SamPerturbsByRhoAlongTheGradientStepsWithTheGradientThereAndRestoresTheWeightsBitForBit()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        var spy = new Spy();
        IObjectiveTerm[] terms = [new CrossEntropy(), new WeightDecay(0.01), spy];
        var g = MethodFixtures.Gradient(model, batch, terms, data.Count);
        spy.Calls.Clear();
        var context = MethodFixtures.Context(model, batch, terms, data.Count);
        var before = MethodFixtures.Snapshot(context.Parameters);

        new Sam(0.05).ComputeGradients(context);

        Assert.Equal(2, spy.Calls.Count);
        var e = spy.Calls[1].Weights.Zip(spy.Calls[0].Weights, (a, b) => a.sub(b)).ToArray();
        Assert.Equal(0.05, Norm(e), 1e-12);
        double gNorm = Norm(g);
        for (int i = 0; i < e.Length; i++)
            Assert.True(MethodFixtures.MaxAbsDiff(e[i], g[i].mul(0.05 / gNorm)) < 1e-15);
        for (int i = 0; i < before.Length; i++)
            TensorAssert.BitIdentical(before[i], context.Parameters[i].Value, context.Parameters[i].Name);

        // The gradient left for the step is the gradient at w + e.
        var stepGradient = context.Parameters.Select(p => p.Value.grad!.clone()).ToArray();
        using (no_grad())
            for (int i = 0; i < e.Length; i++) context.Parameters[i].Value.copy_(spy.Calls[1].Weights[i]);
        var atPerturbed = MethodFixtures.Gradient(model, batch, terms, data.Count);
        for (int i = 0; i < e.Length; i++) TensorAssert.BitIdentical(atPerturbed[i], stepGradient[i], context.Parameters[i].Name);
    }

    [Fact]
    public void AsamPerturbsByRhoInTheNormalizedCoordinates()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var batch = MethodFixtures.WholeBatch(data);
        var spy = new Spy();
        IObjectiveTerm[] terms = [new CrossEntropy(), spy];
        var g = MethodFixtures.Gradient(model, batch, terms, data.Count);
        spy.Calls.Clear();
        var context = MethodFixtures.Context(model, batch, terms, data.Count);
        var w = MethodFixtures.Snapshot(context.Parameters);

        new Asam(0.5, 0.01).ComputeGradients(context);

        var e = spy.Calls[1].Weights.Zip(spy.Calls[0].Weights, (a, b) => a.sub(b)).ToArray();
        var t = w.Select(x => x.abs().add(0.01)).ToArray();
        Assert.Equal(0.5, Norm(e.Zip(t, (a, b) => a.div(b))), 1e-12);
        double tgNorm = Norm(t.Zip(g, (a, b) => a.mul(b)));
        for (int i = 0; i < e.Length; i++)
            Assert.True(MethodFixtures.MaxAbsDiff(e[i], t[i].square().mul(g[i]).mul(0.5 / tgNorm)) < 1e-14);
        for (int i = 0; i < w.Length; i++) TensorAssert.BitIdentical(w[i], context.Parameters[i].Value);
    }

    [Fact]
    public void RhoMustBePositive()
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        var context = MethodFixtures.Context(model, MethodFixtures.WholeBatch(data), [new CrossEntropy()], data.Count);
        Assert.Contains("ρ", Assert.Throws<BasinException>(() => new Sam(0).ComputeGradients(context)).Message);
        Assert.Contains("ρ", Assert.Throws<BasinException>(() => new Asam(-1).ComputeGradients(context)).Message);
    }
}
