using Basin.Experiments.Tightness;
using Basin.Tightness;
using Xunit;

namespace Basin.Tests.Tightness;

public class TwinSampleTests
{
    [Fact]
    public void UnseenFractionMatchesTheFormula()
    {
        const int n = 2000, m = 1000, draws = 1000;
        double expected = TwinSample.ExpectedUnseenFraction(n, m);
        Assert.Equal(0.6065, expected, 4);
        var rho = Enumerable.Range(0, draws).Select(s => TwinSample.Draw(n, m, 10, s).UnseenFraction).ToArray();
        double mean = rho.Average();
        double se = Math.Sqrt(rho.Sum(r => (r - mean) * (r - mean)) / (draws - 1) / draws);
        Assert.InRange(mean, expected - 3 * se, expected + 3 * se);
    }

    [Fact]
    public void ScenarioTwoLossOfAnInterpolatorEqualsADirectCount()
    {
        var twin = TwinSample.Draw(300, 200, 10, seed: 4);
        var h = twin.Labels.ToArray(); // h interpolates (U, ℓ)
        var f2 = twin.Scenario2Labels(seed: 9);
        var drawn = new HashSet<int>(twin.Draws);
        int count = 0;
        for (int u = 0; u < twin.UniverseSize; u++)
        {
            if (drawn.Contains(u)) Assert.Equal(twin.Labels[u], f2[u]); // f₂ = ℓ on S
            else if (f2[u] != twin.Labels[u]) count++;
        }
        Assert.Equal(twin.UniverseSize - drawn.Count, twin.UnseenCount);
        Assert.Equal(0.0, twin.Loss(h, twin.Labels));
        Assert.Equal((double)count / twin.UniverseSize, twin.Loss(h, f2));
        Assert.True(count > 0);
    }

    [Fact]
    public void ExpectedScenarioTwoLossIsNineTenthsOfTheUnseenFraction()
    {
        const int n = 2000, m = 1000, draws = 400;
        double expected = TwinSample.ExpectedScenario2Loss(n, m, 10);
        Assert.Equal(0.9 * Math.Pow(1 - 1.0 / n, m), expected, 15);
        var losses = Enumerable.Range(0, draws).Select(s =>
        {
            var twin = TwinSample.Draw(n, m, 10, s);
            return twin.Loss(twin.Labels.ToArray(), twin.Scenario2Labels(s + 100_000));
        }).ToArray();
        double mean = losses.Average();
        double se = Math.Sqrt(losses.Sum(l => (l - mean) * (l - mean)) / (draws - 1) / draws);
        Assert.InRange(mean, expected - 3 * se, expected + 3 * se);
        Assert.InRange(se, 0.0003, 0.001);
    }

    [Fact]
    public void CompletionsOnlyChangeUnseenLabels()
    {
        var twin = TwinSample.Draw(500, 400, 10, seed: 1);
        var a = twin.Scenario2Labels(1);
        var b = twin.Scenario2Labels(2);
        for (int u = 0; u < twin.UniverseSize; u++)
            if (twin.Seen[u]) Assert.Equal(a[u], b[u]);
        Assert.Contains(Enumerable.Range(0, twin.UniverseSize), u => !twin.Seen[u] && a[u] != b[u]);
        Assert.Equal(a, twin.Scenario2Labels(1));
    }

    [Fact]
    public void UniverseSmallerThanSampleIsOneLineError()
    {
        var e = Assert.Throws<BasinException>(() => TwinSample.Draw(100, 101, 10, 0));
        Assert.Equal("the universe (100 points) must not be smaller than the sample (101 draws)", e.Message);
        var c = Assert.Throws<BasinException>(() => new TwinsConfig { Universe = 500, Sample = 1000 }.Validate());
        Assert.Equal(e.Message.Replace("100 points", "500 points").Replace("101 draws", "1000 draws"), c.Message);
    }

    [Fact]
    public void DisagreementEstimateIsZeroForTheTruthAndTheNoiseLossForRandomLabels()
    {
        // h = truth: it disagrees with the S-only model exactly where that model errs.
        Assert.Equal(0.0, DisagreementEstimate.Of(0.6, 0.2, 0.2, 10));
        // h uniform off S: it disagrees 90 % of the time, and its loss is 0.9·ρ.
        Assert.Equal(0.9 * 0.6, DisagreementEstimate.Of(0.6, 0.9, 0.2, 10), 12);
        Assert.Equal(0.9 * 0.6 * 0.5, DisagreementEstimate.Of(0.6, 0.55, 0.2, 10), 12);
        Assert.True(double.IsNaN(DisagreementEstimate.Of(0.6, 0.9, 0.9, 10)));
    }

    [Fact]
    public void AffineBoundFitsExactLinesAndFallsBackToTheMean()
    {
        var b = AffineBound.Fit([1.0, 2.0, 3.0], [0.5, 0.7, 0.9]);
        Assert.Equal(0.3, b.Intercept, 12);
        Assert.Equal(0.2, b.Slope, 12);
        Assert.Equal(0.0, b.MeanAbsoluteError([1.0, 2.0, 3.0], [0.5, 0.7, 0.9]), 12);
        // Scenario 1's losses are all 0: the calibrated bound is 0 and errs by L₂ on scenario 2.
        var zero = AffineBound.Fit([4.0, 5.0, 9.0], [0.0, 0.0, 0.0]);
        Assert.Equal(0.0, zero.At(7.0));
        Assert.Equal(0.55, zero.MeanAbsoluteError([4.0, 5.0, 9.0], [0.54, 0.55, 0.56]), 12);
        var flat = AffineBound.Fit([2.0, 2.0, double.NaN], [0.1, 0.3, 0.8]);
        Assert.Equal(new AffineBound(0.2, 0), flat);
    }

    [Fact]
    public void BoundRowScoresEachScenarioWithTheOtherOnesFit()
    {
        MeasureValue V(double x) => new("mu", x, null, 0);
        TwinNetwork N(double mu, double l2) => new("m", 1e-3, 1, 1, 0.001, 1, 0, l2, l2, 0.005, 1, [V(mu)]);
        var row = TwinsStudy.BoundRow("mu", [N(1, 0.54), N(2, 0.56), N(3, 0.55)]);
        Assert.Equal(3, row.Networks);
        Assert.Equal(0.0, row.FitOn1ErrorOn1, 12);
        Assert.Equal(0.55, row.FitOn1ErrorOn2, 12);
        Assert.Equal(0.55, row.FitOn2ErrorOn1, 2);
        Assert.Equal(0.55 / 2, row.BestWorstCase, 12);
        Assert.True(Math.Max(row.FitOn1ErrorOn2, row.FitOn2ErrorOn1) >= row.BestWorstCase);
    }
}

public class TwinMeasuresSeeOnlyTheSampleTests
{
    [Fact]
    public void RelabellingTheUnseenPointsLeavesTheMeasuredDataAndMeasuresUnchanged()
    {
        using var universe = Basin.Tests.Measures.MeasureFixtures.Data(n: 40, features: 6, classes: 3, seed: 2);
        var twin = TwinSample.Draw(40, 25, 3, seed: 7);
        var other = twin.Relabel(twin.OnSampleElse(twin.Scenario2Labels(5)));
        using var u1 = TwinsStudy.WithLabels(universe, twin.Labels, "1");
        using var u2 = TwinsStudy.WithLabels(universe, other.Labels, "2");
        Assert.NotEqual(twin.Labels, other.Labels);
        using var s1 = TwinsStudy.SampleData(u1, twin);
        using var s2 = TwinsStudy.SampleData(u2, other);
        Assert.Equal(25, s1.Count);
        Assert.Equal(s1.Inputs.shape, s2.Inputs.shape);
        Assert.True(s1.Inputs.eq(s2.Inputs).all().item<bool>());
        Assert.True(s1.Labels.eq(s2.Labels).all().item<bool>());
        using var model = Basin.Tests.Measures.MeasureFixtures.TrainedMlp(s1, steps: 50);
        foreach (var name in new[] { "inverse-margin", "fisher-rao", "hessian-trace-head" })
        {
            var m = Basin.Measures.MeasureRegistry.Get(name);
            Assert.Equal(m.Compute(new(model, s1)), m.Compute(new(model, s2)));
        }
    }
}
