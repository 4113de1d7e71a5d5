using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using Basin.Tests.Training;
using Basin.Training;
using Basin.Training.Methods;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

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

    /// <summary>κ_Tr = Σ_{s,t} ⟨W_s, W_t⟩ Tr(H_{s,t}) of the head from its full Hessian, built row by row by double backward.</summary>
    static double ExactHeadKappa(Classifier model, LabeledDataset data)
    {
        using var scope = NewDisposeScope();
        var w = model.Head.weight!;
        long d = w.shape[0], m = w.shape[1];
        var loss = nn.functional.cross_entropy(model.forward(data.Inputs.to_type(ScalarType.Float64)), data.Labels);
        var g = torch.autograd.grad([loss], [w], create_graph: true, retain_graph: true)[0].reshape(-1);
        var rows = new List<Tensor>();
        for (long i = 0; i < d * m; i++)
            rows.Add(torch.autograd.grad([g[i]], [w], retain_graph: true)[0].reshape(-1));
        var h = stack(rows).reshape(d, m, d, m);                   // H[(s,k),(t,l)]
        var traces = h.diagonal(offset: 0, dim1: 1, dim2: 3).sum(dim: -1);               // Tr(H_{s,t}) = Σ_k H[(s,k),(t,k)]
        using var _ = no_grad();
        return w.mm(w.T).mul(traces).sum().ToDouble();
    }

    [Theory]
    [InlineData(FamNormalization.LayerInputs)]
    [InlineData(FamNormalization.None)]
    public void FamTermIsLambdaOverMTimesTheExactBlockRelativeFlatness(FamNormalization normalization)
    {
        var (model, data) = Problem();
        using var _m = model;
        using var _d = data;
        double kappa = ExactHeadKappa(model, data);
        Assert.True(kappa > 1e-3, $"κ_Tr = {kappa} is too small to tell the forms apart");
        foreach (var curvature in new[] { FamCurvature.Full, FamCurvature.Detached })
        {
            double fam = Loss(model, MethodFixtures.WholeBatch(data), [new Fam(0.7, Curvature: curvature) { Normalization = normalization }]);
            double m = model.Head.weight!.shape[1];                 // 4 inputs per neuron of the head of mlp:4
            Assert.Equal(normalization == FamNormalization.LayerInputs ? 0.7 / m * kappa : 0.7 * kappa, fam, 1e-12);
        }
    }

    [Fact]
    public void TheDefaultIsThePapersNormalizedForm()
    {
        Assert.Equal(FamNormalization.LayerInputs, new Fam().Normalization);
        Assert.Equal(0.1, new Fam().Lambda);
        var fam = Basin.Experiments.Training.TrainingJob.RecipeFor(new Basin.Experiments.Training.TrainJobSpec { Method = "fam" }).Objective.OfType<Fam>().Single();
        Assert.Equal(FamNormalization.LayerInputs, fam.Normalization);
        Assert.Equal(FamNormalization.None, FamNormalizations.Parse(" None ", "p"));
        Assert.Contains("p must be one of layer-inputs, none, got 'neuronwise'",
            Assert.Throws<OptionException>(() => FamNormalizations.Parse("neuronwise", "p")).Message);
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
        // Only the head's weight gets a gradient: (2λ/m)·T·W with T[s,t] = (1/N) Σ_n ‖φ_n‖² (diag p_n − p_n p_nᵀ)[s,t].
        using var _ = no_grad();
        var phi = model.Features(data.Inputs.to_type(ScalarType.Float64));
        var w = model.Head.weight!;
        var p = nn.functional.softmax(model.Head.forward(phi), 1);
        var t = zeros([3, 3], ScalarType.Float64);
        for (long n = 0; n < data.Count; n++)
            t.add_(diag(p[n]).sub(outer(p[n], p[n])).mul(phi[n].square().sum()));
        t.div_(data.Count);
        var expected = t.mm(w).mul(2 * 0.5 / w.shape[1]);   // λ/m with the default normalization
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
        var fam = new Fam(1.0, Layer: "fc1") { Normalization = FamNormalization.None };
        var samples = Enumerable.Range(0, 600).Select(_ => Loss(model, batch, [fam])).ToArray();
        double mean = samples.Average();
        double se = Math.Sqrt(samples.Select(x => (x - mean) * (x - mean)).Sum() / (samples.Length - 1) / samples.Length);
        Assert.True(Math.Abs(mean - exact) < 4 * se, $"estimate {mean} ± {se}, exact {exact}");
        Assert.True(se < 0.1 * exact, $"standard error {se} too large to be a check (exact {exact})");

        // The paper's form divides the same estimate by m = 5 inputs of fc1 (same probes: same seed).
        manual_seed(9);
        double unnormalized = Loss(model, batch, [fam]);
        manual_seed(9);
        double normalized = Loss(model, batch, [fam with { Normalization = FamNormalization.LayerInputs }]);
        Assert.Equal(unnormalized / 5, normalized, 1e-12);
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
