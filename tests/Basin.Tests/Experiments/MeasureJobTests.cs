using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Experiments.Gan;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;

namespace Basin.Tests.Experiments;

public class MeasureJobTests
{
    [Fact]
    public void AllLayersGivesEveryLinearLayerAndTheWholeNetworkWithExactValues()
    {
        using var model = SmallMlp("tanh");
        using var data = ToyData();
        var spec = new MeasureSpec { Layer = "all", Measures = GeometryMeasures.Parse("relative-flatness,hessian-trace-weight,top-eigenvalues-weight,gauss-newton-top"), Top = 2, EigenTolerance = 1e-10 };
        var r = MeasureJob.Measure(model, data, spec);
        Assert.Equal(["fc1", "fc2", "fc3", "all"], r.Layers.Select(l => l.Layer));
        Assert.Equal([30L, 20, 12, 30 + 5 + 20 + 4 + 12 + 3], r.Layers.Select(l => l.Parameters));
        Assert.Null(r.Layers[3].RelativeFlatness);
        Assert.Equal(FlatnessVariant.Block, r.Layers[0].RelativeFlatness!.Variant);
        Assert.Equal(FlatnessVariant.ClosedForm, r.Layers[2].RelativeFlatness!.Variant);
        Assert.True(RelativeError(r.Layers[1].RelativeFlatness!.Value, RelativeFlatness.Measure(model, data, "fc2", FlatnessVariant.Block).Value) < 1e-12);
        // Top eigenvalues of the whole network against the brute-force Hessian.
        using var h = BruteForceHessian(model, data, ParameterSet.All(model));
        var (values, _) = torch.linalg.eigh(h);
        var exact = values.data<double>().ToArray().OrderByDescending(v => v).Take(2).ToArray();
        for (int i = 0; i < 2; i++) Assert.True(RelativeError(r.Layers[3].TopEigen!.Values[i], exact[i]) < 1e-6);
        // 74 parameters ≤ the probe limit: the trace is exact, from the diagonal.
        Assert.Equal("exact", r.Layers[3].HessianTrace!.Method);
        Assert.True(RelativeError(r.Layers[3].HessianTrace!.Value, h.trace().ToDouble()) < 1e-10);
        // Hutchinson on request, within 4 of its standard errors of the exact trace.
        var trace = MeasureJob.Measure(model, data, spec with { Layer = "fc2", Measures = [GeometryMeasures.HessianTrace], Hutchinson = true }).Layers[0].HessianTrace!;
        Assert.Equal("hutchinson", trace.Method);
        using var h2 = BruteForceHessian(model, data, ParameterSet.Select(model, "fc2.weight"));
        Assert.True(Math.Abs(trace.Value - h2.trace().ToDouble()) < 4 * trace.StandardError, $"{trace.Value} ± {trace.StandardError} vs {h2.trace().ToDouble()}");
        // For the head, the Gauss–Newton matrix is the Hessian.
        Assert.Equal(r.Layers[2].TopEigen!.Values, r.Layers[2].GaussNewtonTop!.Values);
        // The whole network's GGN is positive semi-definite and differs from H away from a minimum.
        Assert.True(r.Layers[3].GaussNewtonTop!.Values.All(v => v > 0));
    }

    [Fact]
    public void DensityWritesAPngAndOutliersCountAboveTheBulk()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        var folder = Path.Combine(Path.GetTempPath(), "basin-measure-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var r = MeasureJob.Measure(model, data, new MeasureSpec { Measures = [GeometryMeasures.Density, GeometryMeasures.Outliers], DensitySteps = 12 }, folder);
            var d = r.Layers[0].Density!;
            Assert.Equal(Path.Combine(folder, "density-fc3.png"), d.PlotPath);
            var bytes = File.ReadAllBytes(d.PlotPath!);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            var o = r.Layers[0].Outliers!;
            Assert.Equal(9, o.Eigenvalues.Count);  // 3 per class
            Assert.Equal(SpectrumOutliers.Count(o.Eigenvalues), o.Count);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void BadRequestsFailWithClearMessages()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        Assert.Contains("unknown layer 'fc9'", Assert.Throws<BasinException>(() => MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc9" })).Message);
        Assert.Contains("unknown measure 'flatness'", Assert.Throws<OptionException>(() => GeometryMeasures.Parse("flatness")).Message);
        Assert.Contains("unknown relative-flatness variant", Assert.Throws<BasinException>(() => GeometryMeasures.ParseVariant("exact")).Message);
        Assert.Contains("closed form holds for the head", Assert.Throws<BasinException>(() =>
            MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc1", Variant = FlatnessVariant.ClosedForm })).Message);
        Assert.Contains("--top", Assert.Throws<BasinException>(() => MeasureJob.Measure(model, data, new MeasureSpec { Top = 0 })).Message);
        Assert.Contains("at least 1 sample", Assert.Throws<BasinException>(() => MeasureJob.Summarize(model, data, 0)).Message);
    }

    [Fact]
    public void ReparametrizationReportMarksKappaUnchangedAndTraceChanged()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        var r = ReparametrizeJob.Compare(model, data, new ReparametrizeSpec { Seed = 3, Tolerance = 1e-6 });
        Assert.True(r.MaxOutputChange < 1e-10);
        Assert.Equal(2, r.Rescalings.Count);
        var byName = r.Measures.ToDictionary(m => m.Measure);
        Assert.False(byName["relative flatness (closed-form)"].Changed, byName["relative flatness (closed-form)"].ToString());
        Assert.False(byName["relative flatness (closed-form, normalized features)"].Changed);
        Assert.False(byName["relative flatness (neuron-max)"].Changed);
        Assert.True(byName["hessian trace (exact)"].Changed);
        Assert.True(byName["lambda max"].Changed);
        // The plain trace scales by a² with a the fc2→fc3 factor (φ is multiplied by a).
        double a = r.Rescalings[1].Factors[0];
        Assert.True(RelativeError(byName["hessian trace (exact)"].After, a * a * byName["hessian trace (exact)"].Before) < 1e-10);

        var neuronWise = ReparametrizeJob.Compare(model, data, new ReparametrizeSpec { Seed = 3, NeuronWise = true, Tolerance = 1e-6 });
        var n = neuronWise.Measures.ToDictionary(m => m.Measure);
        Assert.True(n["relative flatness (closed-form)"].Changed);
        Assert.False(n["relative flatness (closed-form, normalized features)"].Changed);
    }
}
