using Basin.Tests.Flatness;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

public class HessianEngineTests
{
    [Fact]
    public void ProductEqualsBruteForceHessianTimesVector()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var set = ParameterSet.All(model);
        Assert.Equal(74, set.Count);
        var h = BruteForceHessian(model, data, set);
        Assert.True(MaxAbs(h - h.T) < 1e-12);
        using var hvp = new HessianVectorProduct(model, data, set);
        using var g = new torch.Generator(3);
        var v = ParamVectors.Gaussian(set.Shapes, ScalarType.Float64, g);
        var expected = h.mv(ParamVectors.Flatten(v));
        var actual = ParamVectors.Flatten(hvp.Apply(v));
        Assert.True(MaxAbs(actual - expected) < 1e-12 * Math.Max(1, MaxAbs(expected)));
        Assert.Equal(1, hvp.ProductCount);
    }

    [Fact]
    public void ChunkedProductEqualsOneChunkProductForOneLayerAndForAll()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("relu");
        using var data = ToyData(37);
        foreach (var layers in new[] { new[] { "fc2" }, new[] { "fc1", "fc3.weight" }, Array.Empty<string>() })
        {
            var set = ParameterSet.Select(model, layers);
            using var whole = new HessianVectorProduct(model, data, set);
            using var chunked = new HessianVectorProduct(model, data, set, new CurvatureOptions { ChunkSize = 8 });
            using var g = new torch.Generator(5);
            var v = ParamVectors.Rademacher(set.Shapes, ScalarType.Float64, g);
            var a = ParamVectors.Flatten(whole.Apply(v));
            var b = ParamVectors.Flatten(chunked.Apply(v));
            Assert.True(MaxAbs(a - b) < 1e-12 * MaxAbs(a), $"layers [{string.Join(",", layers)}]");
        }
    }

    [Fact]
    public void CachedGraphFollowsParametersChangedInPlace()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var set = ParameterSet.Select(model, "fc3");
        using var cached = new HessianVectorProduct(model, data, set);
        using (torch.no_grad()) model.Head.weight!.mul_(1.5);
        using var fresh = new HessianVectorProduct(model, data, set, new CurvatureOptions { ReuseGraph = false });
        var v = ParamVectors.Rademacher(set.Shapes, ScalarType.Float64, new torch.Generator(1));
        Assert.True(MaxAbs(ParamVectors.Flatten(cached.Apply(v)) - ParamVectors.Flatten(fresh.Apply(v))) < 1e-12);
    }

    [Fact]
    public void LanczosAndPowerIterationFindTheTopEigenvaluesOfTheFullHessian()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var set = ParameterSet.All(model);
        using var hvp = new HessianVectorProduct(model, data, set);
        var full = CurvatureMatrix.Full(hvp);
        var eig = torch.linalg.eigvalsh(full).data<double>().ToArray();
        var top = eig.OrderByDescending(x => x).Take(5).ToArray();

        var lanczos = Lanczos.TopEigenvalues(hvp, 5, tolerance: 1e-8, maxSteps: 74);
        Assert.True(lanczos.Converged);
        for (int i = 0; i < 5; i++) Assert.True(RelativeError(lanczos.Values[i], top[i]) < 1e-4, $"λ{i}: {lanczos.Values[i]} vs {top[i]}");

        // Power iteration converges to the largest magnitudes.
        var byMagnitude = eig.OrderByDescending(Math.Abs).Take(3).ToArray();
        var power = PowerIteration.TopEigenvalues(hvp, 3, tolerance: 1e-10, maxIterations: 3000);
        Assert.True(power.Converged);
        for (int i = 0; i < 3; i++) Assert.True(RelativeError(power.Values[i], byMagnitude[i]) < 1e-3, $"power λ{i}: {power.Values[i]} vs {byMagnitude[i]}");
        Assert.True(lanczos.Products < power.Products, $"Lanczos {lanczos.Products} products, power {power.Products}");
    }

    [Fact]
    public void HutchinsonTraceIsWithinThreeStandardErrorsOfTheExactTrace()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, "fc2", "fc3"));
        double exact = HessianTrace.Exact(hvp);
        var estimate = HessianTrace.Hutchinson(hvp, relativeStandardError: 0.05, maxProbes: 2000, seed: 11);
        Assert.True(estimate.RelativeStandardError <= 0.05);
        Assert.True(estimate.Samples >= 10);
        Assert.Equal(estimate.Samples, estimate.Products);
        Assert.True(Math.Abs(estimate.Mean - exact) <= 3 * estimate.StandardError, $"{estimate} vs {exact}");
    }

    [Fact]
    public void SpectralDensityIntegratesToOneAndItsMeanEstimatesTraceOverDimension()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.All(model));
        double exact = HessianTrace.Exact(hvp) / hvp.Dimension;
        var density = SpectralDensity.Slq(hvp, runs: 30, steps: 20, gridPoints: 4000, seed: 2);
        double dx = density.Grid[1] - density.Grid[0];
        Assert.True(Math.Abs(density.Density.Sum() * dx - 1) < 1e-3);
        foreach (var w in density.Weights) Assert.True(Math.Abs(w.Sum() - 1) < 1e-10);
        double mass = density.Grid.Zip(density.Density, (x, p) => x * p).Sum() * dx;
        Assert.True(Math.Abs(mass - density.Mean) < 1e-3 * Math.Max(1, Math.Abs(density.Mean)));
        // Each run's mean is q1ᵀHq1 for a random unit q1: unbiased for Tr(H)/n.
        var perRun = Enumerable.Range(0, density.Nodes.Count).Select(r => density.Nodes[r].Zip(density.Weights[r], (x, w) => x * w).Sum()).ToArray();
        double se = Math.Sqrt(perRun.Select(m => (m - density.Mean) * (m - density.Mean)).Sum() / (perRun.Length - 1) / perRun.Length);
        Assert.True(Math.Abs(density.Mean - exact) <= 3 * se, $"SLQ mean {density.Mean} ± {se} vs Tr/n {exact}");
        Assert.Equal(30 * 20, density.Products);
    }

    [Fact]
    public void GaussNewtonEqualsPerExampleJacobianSumAndIsPositiveSemiDefinite()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData(12);
        var set = ParameterSet.Select(model, "fc2", "fc3");
        var ggn = new GaussNewtonVectorProduct(model, data, set, new CurvatureOptions { ChunkSize = 5 });
        var g = CurvatureMatrix.Full(ggn);

        var ps = set.Parameters.Cast<Tensor>().ToArray();
        var expected = torch.zeros(set.Count, set.Count, ScalarType.Float64);
        var x = data.Inputs.to_type(ScalarType.Float64);
        for (long n = 0; n < data.Count; n++)
        {
            var z = model.forward(x[TensorIndex.Slice(n, n + 1)])[0];
            var p = nn.functional.softmax(z.detach(), 0);
            var a = torch.diag(p) - torch.outer(p, p);
            var rows = Enumerable.Range(0, 3).Select(c =>
                torch.cat(torch.autograd.grad([z[c]], ps, null, true, false).Select(t => t.reshape(-1)).ToArray())).ToArray();
            var j = torch.stack(rows);
            expected += j.T.mm(a).mm(j);
        }
        expected /= data.Count;
        Assert.True(MaxAbs(g - expected) < 1e-12 * MaxAbs(expected));
        var eig = torch.linalg.eigvalsh((g + g.T) / 2);
        Assert.True(eig.min().ToDouble() > -1e-12 * eig.max().ToDouble());

        // For the head alone, the Hessian is its Gauss–Newton part (the logits are linear in fc3).
        var head = ParameterSet.Select(model, "fc3");
        using var hvp = new HessianVectorProduct(model, data, head);
        Assert.True(MaxAbs(CurvatureMatrix.Full(hvp) - CurvatureMatrix.Full(new GaussNewtonVectorProduct(model, data, head))) < 1e-12);
    }

    [Fact]
    public void GaussNewtonForACustomLossUsesItsLogitHessian()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData(10);
        var head = ParameterSet.Select(model, "fc3");
        // Mean squared error to one-hot targets: logits are linear in the head, so again G = H.
        var options = new CurvatureOptions
        {
            Loss = (z, y) => (z - nn.functional.one_hot(y, 3).to_type(z.dtype)).pow(2).sum(1).mean(),
            ChunkSize = 4,
        };
        using var hvp = new HessianVectorProduct(model, data, head, options);
        var ggn = new GaussNewtonVectorProduct(model, data, head, options);
        Assert.True(MaxAbs(CurvatureMatrix.Full(hvp) - CurvatureMatrix.Full(ggn)) < 1e-12);
    }

    [Fact]
    public void OutliersAreTheEigenvaluesAboveTheLargestGap()
    {
        Assert.Equal(3, SpectrumOutliers.Count([40, 25, 12, 0.5, 0.4, 0.3, -0.1]));
        Assert.Equal(0, SpectrumOutliers.Count([1.0, 0.9, 0.8, 0.7]));
        Assert.Equal(1, SpectrumOutliers.Count([10, 1, 0.6, 0.5]));
        Assert.Equal(0, SpectrumOutliers.Count([-1, -2]));
    }
}
