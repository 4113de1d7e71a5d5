using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Measures;
using Basin.Models;
using Basin.Tests.Curvature;
using Basin.Tests.Flatness;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Measures;

/// <summary>Each measure against an exact, hand-computed or brute-force value on a tiny model.</summary>
public class MeasureValueTests
{
    [Fact]
    public void MarginIsTheInterpolatedPercentileOfTrueMinusBestOtherLogit()
    {
        using var logits = torch.tensor(new double[,] { { 3, 1, 0 }, { 0, 2, 5 }, { 1, 1, 4 } });
        using var labels = torch.tensor(new long[] { 0, 1, 2 });
        using var m = Margin.ExampleMargins(logits, labels);
        Assert.Equal(new double[] { 2, -3, 3 }, m.data<double>().ToArray());
        // sorted −3, 2, 3; the 10th percentile sits at position 0.2: −3 + 0.2·5 = −2.
        Assert.Equal(-2, Margin.Quantile([2, -3, 3], 0.1), 12);
        Assert.Equal(0.25, Margin.InverseSquared(2));
        Assert.Equal(double.PositiveInfinity, Margin.InverseSquared(-2));
    }

    [Fact]
    public void NormsAndParameterCountMatchHandValues()
    {
        using var data = MeasureFixtures.Data();
        using var model = MeasureFixtures.TrainedMlp(data, "3", steps: 0);
        var c = new MeasureContext(model, data);
        Assert.Equal(6 * 3 + 3 + 3 * 3 + 3, MeasureRegistry.Get("params").Compute(c));
        using var noGrad = torch.no_grad();
        var w = ModelPartsOf(model);
        w[0].copy_(torch.tensor(new double[,] { { 3, 0, 0, 0, 0, 0 }, { 0, 4, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0 } }));
        w[1].copy_(torch.tensor(new double[,] { { 1, 1, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }));
        // ‖W1‖_F² = 25, ‖W1‖₂² = 16; ‖W2‖_F² = 2 = ‖W2‖₂² (rank one).
        Assert.Equal(Math.Log(25) + Math.Log(2), MeasureRegistry.Get("log-prod-frobenius").Compute(c), 10);
        Assert.Equal(Math.Log(16) + Math.Log(2), MeasureRegistry.Get("log-prod-spectral").Compute(c), 10);
        Assert.Equal(Math.Log(2) + (Math.Log(16) + Math.Log(2)) / 2, MeasureRegistry.Get("log-sum-spectral").Compute(c), 10);
        using var init = MeasureFixtures.TrainedMlp(data, "3", steps: 0);
        foreach (var p in init.parameters()) p.zero_();
        var withInit = c with { Initial = init };
        Assert.Equal(27, MeasureRegistry.Get("frobenius-distance").Compute(withInit), 10);
        Assert.Equal(18, MeasureRegistry.Get("spectral-distance").Compute(withInit), 10);
        Assert.Contains("needs the initial weights", Assert.Throws<BasinException>(() => MeasureRegistry.Get("frobenius-distance").Compute(c)).Message);
    }

    static Tensor[] ModelPartsOf(Classifier model) =>
        model.named_parameters().Where(np => np.name.EndsWith("weight")).Select(np => (Tensor)np.parameter).ToArray();

    [Fact]
    public void PathNormEqualsTheSumOverEnumeratedPaths()
    {
        using var data = MeasureFixtures.Data(features: 3, classes: 2);
        using var model = MeasureFixtures.TrainedMlp(data, "4,3", steps: 20);
        var layers = model.named_parameters().ToList();
        var weights = layers.Where(l => l.name.EndsWith("weight")).Select(l => To2D(l.parameter)).ToArray();
        var biases = layers.Where(l => l.name.EndsWith("bias")).Select(l => l.parameter.data<double>().ToArray()).ToArray();
        // Paths start at an input unit (value 1) or at the bias of a unit in some layer, and end at an output.
        double total = 0;
        void Walk(int layer, int unit, double product)
        {
            if (layer == weights.Length) { total += product; return; }
            for (int next = 0; next < weights[layer].GetLength(0); next++)
                Walk(layer + 1, next, product * Math.Pow(weights[layer][next, unit], 2));
        }
        for (int i = 0; i < 3; i++) Walk(0, i, 1);
        for (int l = 0; l < biases.Length; l++)
            for (int u = 0; u < biases[l].Length; u++) Walk(l + 1, u, biases[l][u] * biases[l][u]);
        Assert.Equal(total, PathNorm.Compute(model, data.ExampleShape), 9);
    }

    static double[,] To2D(Tensor t)
    {
        var flat = t.data<double>().ToArray();
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        var a = new double[rows, cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) a[r, c] = flat[r * cols + c];
        return a;
    }

    [Fact]
    public void FisherRaoEqualsMeanSquaredDirectionalDerivativeFromPerExampleGradients()
    {
        using var data = MeasureFixtures.Data(n: 12);
        using var model = MeasureFixtures.TrainedMlp(data, "5", steps: 50);
        using var g = GradientStatistics.PerExampleGradients(model, data);
        using var theta = torch.cat(model.parameters().Select(p => p.detach().reshape(-1)).ToArray());
        using var dots = g.mv(theta);
        var expected = dots.data<double>().ToArray();
        var actual = FisherRao.Directional(model, data, chunkSize: 5);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 10);
        Assert.Equal(expected.Select(v => v * v).Average(), FisherRao.Compute(model, data), 10);
    }

    [Fact]
    public void PacBayesSigmaGivesTheTargetAccuracyDropOnFreshNoise()
    {
        using var data = MeasureFixtures.Data(n: 200);
        using var model = MeasureFixtures.TrainedMlp(data, "16", steps: 300, lr: 0.5);
        var options = new MeasureOptions { NoiseDraws = 16, Seed = 5 };
        foreach (bool magnitude in new[] { false, true })
        {
            var found = PacBayesFlatness.Search(model, data, magnitude, options);
            Assert.True(Math.Abs(found.Drop - 0.1) <= options.AccuracyDropTolerance, $"search ended at drop {found.Drop}");
            double fresh = PacBayesFlatness.AccuracyDrop(model, data, found.Sigma, magnitude, draws: 64, seed: 991);
            Assert.True(Math.Abs(fresh - 0.1) <= 0.04, $"σ = {found.Sigma} (magnitude-aware {magnitude}): fresh drop {fresh}");
        }
    }

    [Fact]
    public void SharpnessIsGradientNormTimesRadiusForSmallRadiiAndBeatsRandomDirections()
    {
        using var data = MeasureFixtures.Data(n: 40);
        using var model = MeasureFixtures.TrainedMlp(data, "6", steps: 30);
        var all = ParameterSet.All(model);
        using var op = new HessianVectorProduct(model, data, all);
        var g = op.Gradient();
        double gNorm = ParamVectors.Norm(g);
        double alpha = 1e-5;
        Assert.Equal(1, WorstCaseSharpness.LossIncrease(model, data, alpha) / (alpha * gNorm), 3);

        double radius = 0.5, found = WorstCaseSharpness.LossIncrease(model, data, radius, steps: 10);
        double loss0 = ModelPartsLoss(model, data);
        using var generator = new torch.Generator(17);
        var snapshot = model.parameters().Select(p => p.detach().clone()).ToArray();
        for (int k = 0; k < 20; k++)
        {
            using var scope = torch.NewDisposeScope();
            var d = ParamVectors.Normalize(ParamVectors.Gaussian(all.Shapes, ScalarType.Float64, generator));
            using (torch.no_grad()) { int i = 0; foreach (var p in model.parameters()) { p.copy_(snapshot[i].add(d[i], radius)); i++; } }
            Assert.True(ModelPartsLoss(model, data) - loss0 <= found + 1e-12, "a random direction found a larger increase than the ascent");
        }
        using (torch.no_grad()) { int i = 0; foreach (var p in model.parameters()) p.copy_(snapshot[i++]); }

        var r = WorstCaseSharpness.RadiusAt(model, data, 0.1, bisectionSteps: 12);
        Assert.True(Math.Abs(r.Increase - 0.1) <= 0.01, $"increase {r.Increase} at radius {r.Radius}");
    }

    static double ModelPartsLoss(Classifier model, LabeledDataset data)
    {
        using var scope = torch.NewDisposeScope();
        model.eval();
        return nn.functional.cross_entropy(model.forward(data.Inputs.to_type(ScalarType.Float64)), data.Labels).ToDouble();
    }

    [Fact]
    public void LambdaMaxAndTraceMatchTheBruteForceHessian()
    {
        using var data = MeasureFixtures.Data(n: 30);
        using var model = MeasureFixtures.TrainedMlp(data, "4", steps: 50);
        using var h = GeometryFixtures.BruteForceHessian(model, data, ParameterSet.All(model));
        using var eig = torch.linalg.eigvalsh(h);
        var c = new MeasureContext(model, data) { Options = new MeasureOptions { EigenTolerance = 1e-8, MaxLanczosSteps = 200, TraceRelativeError = 0.01, MaxProbes = 2000 } };
        Assert.Equal(1, MeasureRegistry.Get("lambda-max-all").Compute(c) / eig.max().ToDouble(), 6);
        // 43 parameters, at most MaxProbes: the policy takes the exact diagonal (Hutchinson before issue 11, within 5%).
        Assert.Equal(1, MeasureRegistry.Get("hessian-trace-all").Compute(c) / h.trace().ToDouble(), 10);
        Assert.InRange(MeasureRegistry.Get("hessian-trace-all").Compute(c) / h.trace().ToDouble(), 0.95, 1.05);
    }

    [Fact]
    public void IdenticalExamplesHaveMCoherenceMAndNoGradientNoise()
    {
        using var one = MeasureFixtures.Data(n: 1);
        using var x = one.Inputs.repeat(8, 1);
        using var y = one.Labels.repeat(8);
        using var data = new LabeledDataset("same", x.clone(), y.clone(), 3);
        using var model = MeasureFixtures.TrainedMlp(data, "5", steps: 0);
        var r = GradientStatistics.Compute(model, data, group: 4);
        Assert.Equal(4, r.MCoherence, 9);
        Assert.True(Math.Abs(r.Noise) < 1e-12, $"noise {r.Noise}");

        // Two examples with gradients g, −g (same input, losses pulling opposite ways are not exact); use orthogonality instead:
        using var mixed = MeasureFixtures.Data(n: 16);
        var s = GradientStatistics.Compute(model, mixed, group: 16);
        using var g = GradientStatistics.PerExampleGradients(model, mixed);
        double sumNorms = g.square().sum().ToDouble(), normSum = g.sum([0]).square().sum().ToDouble();
        Assert.Equal(normSum / sumNorms, s.MCoherence, 10);
        Assert.Equal(sumNorms / 16 - normSum / 256, s.Noise, 10);
    }

    [Fact]
    public void StepsToLossReadsTheFirstEpochAtTheTarget()
    {
        var curve = new[] { new CurvePoint(10, 1.2), new CurvePoint(20, 0.45), new CurvePoint(30, 0.2) };
        Assert.Equal(20, OptimizationSpeed.StepsToLoss(curve, 0.5));
        Assert.Equal(double.PositiveInfinity, OptimizationSpeed.StepsToLoss(curve, 0.1));
    }

    [Fact]
    public void UnknownMeasureIsAClearError()
    {
        var e = Assert.Throws<OptionException>(() => MeasureRegistry.Select(["inverse-margin,flatness-of-doom"]));
        Assert.Contains("unknown measure 'flatness-of-doom'", e.Message);
        Assert.Equal(MeasureRegistry.All.Count, MeasureRegistry.Select(["all"]).Count);
        Assert.Equal(["params", "path-norm"], MeasureRegistry.Select(["params", "path-norm,params"]).Select(m => m.Name));
    }
}

public class ConstantFeatureFoldingTests
{
    [Fact]
    public void FoldingDeadUnitsIntoTheBiasKeepsTheLogitsAndZeroesTheirColumns()
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data, "8,8", steps: 400, lr: 0.3);   // this fixture has one dead fc2 unit
        using var folded = Basin.Flatness.Reparametrization.Copy(model);
        Basin.Flatness.FeatureStatistics.FoldConstantHeadFeatures(folded, data, 1000);
        using var x = data.Inputs.to_type(TorchSharp.torch.ScalarType.Float64);
        using var a = model.forward(x);
        using var b = folded.forward(x);
        Assert.True(Basin.Tests.Curvature.GeometryFixtures.MaxAbs(a - b) < 1e-12);
        using var zero = 0.ToScalar();
        using var zeroColumns = folded.Head.weight!.abs().sum(dim: 0).eq(zero).sum();
        Assert.Equal(1, zeroColumns.ToInt64());
    }
}
