using System.Globalization;
using Basin.Curvature;
using Basin.Experiments.Geometry;
using Basin.Measures;
using Xunit;

namespace Basin.Tests.Measures;

/// <summary>
/// The Hessian measures of both commands, pinned to the values they had (under their old names) before the estimator policy moved into
/// Basin.Curvature (issue 11): the sweep's measures and `basin geometry` on a float64 MLP 6-8-8-3 (155 parameters),
/// every branch of the policy (closed form, exact diagonal, Hutchinson, Lanczos) taken at least once.
/// </summary>
public class PinnedCurvatureValuesTests
{
    static void Pinned(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * Math.Abs(expected),
            $"{what}: {actual.ToString("R", CultureInfo.InvariantCulture)}, pinned {expected.ToString("R", CultureInfo.InvariantCulture)}");

    [Fact]
    public void SweepMeasuresKeepTheirValues()
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data);
        var c = new MeasureContext(model, data) { Options = new MeasureOptions { Seed = 5 } };
        double V(string name) => MeasureRegistry.Get(name).Compute(c);
        Pinned(P0, V("hessian-trace-all"), "hessian-trace-all (Hutchinson)");
        Pinned(P1, V("hessian-trace-head"), "hessian-trace-head");
        Pinned(P2, V("lambda-max-all"), "lambda-max-all");
        Pinned(P3, V("lambda-max-head"), "lambda-max-head");
        Pinned(P4, V("relative-flatness"), "relative-flatness");
    }

    [Fact]
    public void GeometryKeepsItsValues()
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data);
        // At most 50 probes: fc1 (48 weights) exact by its diagonal, fc2 (64) and the whole network (155) by Hutchinson.
        var measures = GeometryMeasures.Parse("relative-flatness,hessian-trace-weight,top-eigenvalues-weight");
        var spec = new MeasureSpec { Layer = "all", Measures = measures, Top = 2, MaxProbes = 50, Seed = 3 };
        var r = MeasureJob.Measure(model, data, spec);
        Assert.Equal(["exact", "hutchinson", "exact", "hutchinson"], r.Layers.Select(l => l.HessianTrace!.Method));
        // Per layer (fc1, fc2, fc3, all): trace, its standard error, λ₁, λ₂; then κ of fc1, fc2, fc3; the head's trace by
        // Hutchinson and its standard error; the demo's summary (head weight trace, λ_max, κ).
        double[] pinned =
        [
            4.25931790907771, 0, 1.4157034557652013, 0.6271773686270468,
            1.354776600844357, 0.15102394527687854, 0.7811597331629274, 0.6202774863370376,
            1.2873480630841725, 0, 0.8589377389118871, 0.39288433082065044,
            8.95686713005435, 0.7562150743648153, 2.4072468219784655, 2.0301484419895997,
            20.924052337882493, 9.322721046099142, 6.829424168006494,
            1.4663727636897395, 0.1451400272350426,
            1.2873480630841725, 0.8589377389118857, 6.829424168006494,
        ];
        var actual = r.Layers
            .SelectMany(l => new[] { l.HessianTrace!.Value, l.HessianTrace.StandardError, l.TopEigen!.Values[0], l.TopEigen.Values[1] })
            .Concat(r.Layers.Take(3).Select(l => l.RelativeFlatness!.Value)).ToArray();
        Assert.Equal(19, actual.Length);
        var head = MeasureJob.Measure(model, data, spec with { Layer = null, Hutchinson = true }).Layers[0];
        Assert.Equal("hutchinson", head.HessianTrace!.Method);
        actual = [.. actual, head.HessianTrace.Value, head.HessianTrace.StandardError];
        var summary = MeasureJob.Summarize(model, data);
        actual = [.. actual, summary.HessianTrace, summary.LambdaMax, summary.RelativeFlatness];
        Assert.Equal(pinned.Length, actual.Length);
        for (int i = 0; i < pinned.Length; i++) Pinned(pinned[i], actual[i], $"value {i}");
    }

    const double P0 = 8.730238014839571, P1 = 1.3155398997310355, P2 = 2.407246719883406, P3 = 0.8731682998808432, P4 = 6.829424168006494;
}
