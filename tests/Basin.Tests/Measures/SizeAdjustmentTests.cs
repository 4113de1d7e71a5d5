using Basin.Measures;
using Xunit;

namespace Basin.Tests.Measures;

/// <summary>Measures as bound terms at training-set size m (Jiang et al. 2020): the facts, the formulas, the PAC-Bayes bounds.</summary>
public class SizeAdjustmentTests
{
    [Fact]
    public void BoundTermIsTheSquareRootOrHalfLogForm()
    {
        Assert.Equal(2, SizeAdjustment.BoundTerm(SizeScaling.SquareRoot, 400, 100), 12);
        Assert.Equal(-2, SizeAdjustment.BoundTerm(SizeScaling.SquareRoot, -400, 100), 12);   // sign kept: order within one m kept
        Assert.Equal(3, SizeAdjustment.BoundTerm(SizeScaling.HalfLog, 10, Math.Exp(4)), 12);  // ½(10 − 4)
        Assert.Equal(7.5, SizeAdjustment.BoundTerm(SizeScaling.None, 7.5, 100));
        Assert.Equal(double.PositiveInfinity, SizeAdjustment.BoundTerm(SizeScaling.SquareRoot, double.PositiveInfinity, 100));
        Assert.Equal(double.PositiveInfinity, SizeAdjustment.BoundTerm(SizeScaling.HalfLog, double.PositiveInfinity, 100));
        Assert.True(double.IsNaN(SizeAdjustment.BoundTerm(SizeScaling.SquareRoot, 4, double.NaN)));   // m unknown
        Assert.True(double.IsNaN(SizeAdjustment.BoundTerm(SizeScaling.HalfLog, 4, 0)));
        // A measure that did not apply (NaN) stays NaN; Math.Sign(NaN) threw and failed the 96-model sweep's report.
        Assert.True(double.IsNaN(SizeAdjustment.BoundTerm(SizeScaling.SquareRoot, double.NaN, 100)));
        Assert.True(double.IsNaN(SizeAdjustment.BoundTerm(SizeScaling.HalfLog, double.NaN, 100)));
    }

    [Fact]
    public void EveryRegisteredMeasureStatesHowItScalesWithM()
    {
        foreach (var f in MeasureRegistry.All.Select(m => m.Facts))
        {
            Assert.True(Enum.IsDefined(f.Scaling), f.Name);
            Assert.False(string.IsNullOrWhiteSpace(f.ScalingReason), f.Name);
        }
        SizeScaling Of(string n) => MeasureRegistry.Get(n).Facts.Scaling;
        // As the reimplementation of Jiang et al.: logarithms take the half-log form, the other complexity terms the root.
        foreach (var n in MeasureRegistry.Names.Where(n => n.StartsWith("log-", StringComparison.Ordinal)))
            Assert.Equal(SizeScaling.HalfLog, Of(n));
        foreach (var n in new[] { "params", "inverse-margin", "frobenius-distance", "spectral-distance", "parameter-norm", "parameter-distance",
                     "path-norm", "pac-bayes-flatness", "pac-bayes-mag-flatness", "hessian-trace-all", "relative-flatness" })
            Assert.Equal(SizeScaling.SquareRoot, Of(n));
        foreach (var n in new[] { "sharpness", "gradient-noise", "m-coherence", "steps-to-loss" })
            Assert.Equal(SizeScaling.None, Of(n));
    }

    [Fact]
    public void MeasuresThatDoNotScaleWithMAreNotAdjustedAndAdjustedOnesNotTwice()
    {
        var derived = MeasureRegistry.Derived.Select(d => d.Name).ToHashSet();
        foreach (var f in MeasureRegistry.All.Select(m => m.Facts))
            Assert.Equal(f.Scaling != SizeScaling.None, derived.Contains(SizeAdjustment.AdjustedName(f.Name)));
        Assert.All(MeasureRegistry.Derived.Where(d => d.Name.EndsWith(SizeAdjustment.Suffix, StringComparison.Ordinal)),
            d => Assert.Equal(SizeScaling.None, d.Facts.Scaling));
        Assert.Contains("pac-bayes-bound-init@m", derived);
        Assert.Contains("pac-bayes-bound-origin@m", derived);
        Assert.DoesNotContain("steps-to-loss@m", derived);

        var values = MeasureRegistry.WithDerived(new Dictionary<string, double> { ["gradient-noise"] = 5, ["steps-to-loss"] = 300, ["sharpness"] = 0.2 }, 100);
        Assert.Equal(["gradient-noise", "sharpness", "steps-to-loss"], values.Keys.Order());
        // The adjusted form keeps its base's facts (invariance, cost, init).
        var hessian = MeasureRegistry.FactsOf("hessian-trace-all@m");
        Assert.Equal(Invariance.None, hessian.Invariance);
        Assert.Equal(CostClass.Curvature, hessian.Cost);
        Assert.Equal(Invariance.NeuronWise, MeasureRegistry.FactsOf("fisher-rao@m").Invariance);
        Assert.Throws<BasinException>(() => MeasureRegistry.FactsOf("gradient-noise@m"));
    }

    // A hand-made table: the same stored values for two models trained on m = 100 and m = 400 examples.
    static readonly Dictionary<string, double> Stored = new()
    {
        ["hessian-trace-all"] = 400, ["log-prod-spectral"] = 10, ["gradient-noise"] = 5,
        ["pac-bayes-flatness"] = 4,     // σ = 0.5
        ["parameter-distance"] = 2, ["parameter-norm"] = 8,
    };

    [Theory]
    [InlineData(100)]
    [InlineData(400)]
    public void DerivedValuesEqualTheFormulasAtEachModelsM(double m)
    {
        var v = MeasureRegistry.WithDerived(Stored, m);
        Assert.Equal(Math.Sqrt(400 / m), v["hessian-trace-all@m"], 12);              // 2 at m = 100, 1 at m = 400
        Assert.Equal(0.5 * (10 - Math.Log(m)), v["log-prod-spectral@m"], 12);
        Assert.False(v.ContainsKey("gradient-noise@m"));
        // Jiang et al. (48, 49): ‖w − w_ref‖²/(4σ²) + log(m/σ) + 10 with σ = 0.5, then √(B/m).
        double init = 2 / (4 * 0.25) + Math.Log(m / 0.5) + 10, origin = 8 / (4 * 0.25) + Math.Log(m / 0.5) + 10;
        Assert.Equal(init, v["pac-bayes-bound-init"], 12);
        Assert.Equal(origin, v["pac-bayes-bound-origin"], 12);
        Assert.Equal(Math.Sqrt(init / m), v["pac-bayes-bound-init@m"], 12);
        Assert.Equal(Math.Sqrt(origin / m), v["pac-bayes-bound-origin@m"], 12);
        Assert.Equal(Math.Sqrt(4 / m), v["pac-bayes-flatness@m"], 12);
        Assert.Equal(Math.Sqrt(8 / m), v["parameter-norm@m"], 12);
        Assert.False(v.ContainsKey("path-norm@m"));                               // no stored input, no derived value
    }

    [Fact]
    public void PacBayesBoundNeedsAPositiveSigmaAndAnM()
    {
        Assert.Equal(2 + Math.Log(200) + 10, PacBayesBound.FromFlatness(2, 4, 100), 12);
        Assert.Equal(double.PositiveInfinity, PacBayesBound.FromFlatness(2, double.PositiveInfinity, 100));
        Assert.True(double.IsNaN(PacBayesBound.FromFlatness(2, 4, double.NaN)));
        Assert.True(double.IsNaN(PacBayesBound.Value(2, 0, 100)));
    }
}
