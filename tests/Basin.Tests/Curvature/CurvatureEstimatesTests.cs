using Basin.Curvature;
using Basin.Experiments.Geometry;
using Basin.Measures;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;

namespace Basin.Tests.Curvature;

/// <summary>
/// The estimator policy on an MLP 6-5-4-3 (74 parameters) in float64, against the brute-force Hessian: which estimator
/// it picks for each parameter set, that the pick agrees with the exact value, and that the sweep's measures and
/// `basin geometry` get the numbers a C# caller of the policy gets.
/// </summary>
public class CurvatureEstimatesTests
{
    [Fact]
    public void TheHeadsTraceIsItsClosedFormWithAndWithoutTheBias()
    {
        using var model = SmallMlp();
        using var data = ToyData();
        foreach (var name in new[] { "fc3.weight", "fc3" })
        {
            var set = ParameterSet.Select(model, name);
            var r = CurvatureEstimates.Trace(model, data, set);
            Assert.Equal((TraceResult.Exact, 0L, 0, 0.0), (r.Method, r.Products, r.Probes, r.StandardError));
            using var h = BruteForceHessian(model, data, set);
            Assert.True(RelativeError(r.Value, h.trace().ToDouble()) < 1e-10, $"{name}: {r.Value} vs {h.trace().ToDouble()}");
        }
        using var weightOnly = CurvatureEstimates.Hessian(model, data, ParameterSet.Select(model, "fc3.weight")) as IDisposable;
        Assert.IsType<HeadCurvature>(weightOnly);
        using var withBias = CurvatureEstimates.Hessian(model, data, ParameterSet.Select(model, "fc3")) as IDisposable;
        Assert.IsType<HessianVectorProduct>(withBias);
    }

    [Fact]
    public void ASmallSetGetsTheExactDiagonalAndALargeOneHutchinson()
    {
        using var model = SmallMlp();
        using var data = ToyData();
        var fc2 = ParameterSet.Select(model, "fc2.weight");
        var exact = CurvatureEstimates.Trace(model, data, fc2, new EstimateOptions { MaxProbes = 20 });
        Assert.Equal((TraceResult.Exact, 20L), (exact.Method, exact.Products));   // one product per weight
        using (var h = BruteForceHessian(model, data, fc2)) Assert.True(RelativeError(exact.Value, h.trace().ToDouble()) < 1e-10);

        var all = ParameterSet.All(model);
        var options = new EstimateOptions { MaxProbes = 73, RelativeStandardError = 0.02, Seed = 4 };
        var estimate = CurvatureEstimates.Trace(model, data, all, options);
        Assert.Equal(TraceResult.Hutchinson, estimate.Method);
        Assert.InRange(estimate.Probes, options.MinProbes, options.MaxProbes);
        using var full = BruteForceHessian(model, data, all);
        double trace = full.trace().ToDouble();
        Assert.True(Math.Abs(estimate.Value - trace) < 4 * estimate.StandardError,
            $"{estimate.Value} ± {estimate.StandardError} vs {trace}");
        Assert.Equal(TraceResult.Exact, CurvatureEstimates.Trace(model, data, all, options with { MaxProbes = 74 }).Method);

        // Forced Hutchinson skips the closed form and the diagonal.
        var forced = CurvatureEstimates.Trace(model, data, ParameterSet.Select(model, "fc3.weight"),
            new EstimateOptions { ForceHutchinson = true });
        Assert.Equal(TraceResult.Hutchinson, forced.Method);
        Assert.True(forced.StandardError > 0);
    }

    [Fact]
    public void TopEigenvaluesAreLanczosOnThePickedOperator()
    {
        using var model = SmallMlp();
        using var data = ToyData();
        var options = new EstimateOptions { EigenTolerance = 1e-10 };
        foreach (var name in new[] { "fc3.weight", "fc3", "all" })
        {
            var set = ParameterSet.Select(model, name);
            var top = CurvatureEstimates.TopEigenvalues(model, data, set, 2, options);
            using var h = BruteForceHessian(model, data, set);
            var exact = torch.linalg.eigvalsh(h).data<double>().OrderByDescending(v => v).Take(2).ToArray();
            for (int i = 0; i < 2; i++) Assert.True(RelativeError(top.Values[i], exact[i]) < 1e-6,
                $"{name} λ{i + 1}: {top.Values[i]} vs {exact[i]}");
        }
        // More eigenvalues than dimensions: all of them.
        var bias = CurvatureEstimates.TopEigenvalues(model, data, ParameterSet.Select(model, "fc3.bias"), 10, options);
        Assert.Equal(3, bias.Values.Count);
    }

    [Fact]
    public void TheSweepsMeasuresAndGeometryGetThePolicysNumbers()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        var c = new MeasureContext(model, data) { Options = new MeasureOptions { Seed = 2 } };
        var sweepOptions = new EstimateOptions { MaxProbes = c.Options.MaxProbes, RelativeStandardError = c.Options.TraceRelativeError,
            EigenTolerance = c.Options.EigenTolerance, MaxLanczosSteps = c.Options.MaxLanczosSteps, Seed = 2 };
        Assert.Equal(CurvatureEstimates.Trace(model, data, ParameterSet.All(model), sweepOptions).Value,
            MeasureRegistry.Get("hessian-trace-all").Compute(c));
        Assert.Equal(CurvatureEstimates.Trace(model, data, ParameterSet.Select(model, "fc3")).Value,
            MeasureRegistry.Get("hessian-trace-head").Compute(c));
        Assert.Equal(CurvatureEstimates.TopEigenvalues(model, data, ParameterSet.Select(model, "fc3"), 1, sweepOptions).Values[0],
            MeasureRegistry.Get("lambda-max-head").Compute(c));

        var geometry = MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc2", Measures = ["hessian-trace-weight",
            "top-eigenvalues-weight"], Top = 2 });
        var fc2 = ParameterSet.Select(model, "fc2.weight");
        Assert.Equal(CurvatureEstimates.Trace(model, data, fc2), geometry.Layers[0].HessianTrace);
        Assert.Equal(CurvatureEstimates.TopEigenvalues(model, data, fc2, 2).Values, geometry.Layers[0].TopEigen!.Values);
    }
}
