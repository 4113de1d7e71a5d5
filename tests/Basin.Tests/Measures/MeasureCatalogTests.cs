using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Sweeps;
using Basin.Measures;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;

namespace Basin.Tests.Measures;

/// <summary>
/// One measure vocabulary (issue 11): every name once in the catalog, the sweep's and `basin geometry`'s names drawn
/// from it, old names mapped to the same quantity with a note, stored data under old names read under the new ones.
/// </summary>
public class MeasureCatalogTests
{
    [Fact]
    public void BothCommandsDrawTheirNamesFromTheOneCatalog()
    {
        var names = MeasureRegistry.Catalog.Select(f => f.Name).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.Equal(MeasureRegistry.Names, MeasureRegistry.NamesIn(MeasureScope.Model));
        Assert.Equal(GeometryMeasures.All, MeasureRegistry.NamesIn(MeasureScope.Layer));
        Assert.Equal(MeasureRegistry.Names, MeasureRegistry.Select(["all"]).Select(m => m.Name));
        Assert.Equal(GeometryMeasures.All, GeometryMeasures.Parse("all"));
        Assert.Equal(["relative-flatness", "hessian-trace-weight", "top-eigenvalues-weight", "density", "gauss-newton-top", "outliers",
            "feature-robustness"],
            GeometryMeasures.All);
        // Only relative flatness (of the head by default) is one quantity in both places.
        Assert.Equal(["relative-flatness"],
            MeasureRegistry.Catalog.Where(f => f.Scope == (MeasureScope.Model | MeasureScope.Layer)).Select(f => f.Name));
        // An old name is no current name, and its new name lives in its scope.
        foreach (var r in MeasureRegistry.Renamed)
        {
            Assert.DoesNotContain(r.OldName, names);
            Assert.Contains(r.NewName, MeasureRegistry.NamesIn(r.Scope));
        }
        // The Hessian measures say which parameters they read.
        Assert.Contains("all parameters", MeasureRegistry.FactsOf("hessian-trace-all").Definition);
        Assert.Contains("weight and bias", MeasureRegistry.FactsOf("hessian-trace-head").Definition);
        Assert.Contains("weight", MeasureRegistry.FactsOf("hessian-trace-weight").Definition);
    }

    [Fact]
    public void OldNamesMapToTheSameQuantityWithOneNoteEach()
    {
        var notes = new List<string>();
        Assert.Equal(["params", "hessian-trace-all", "lambda-max-all"], MeasureRegistry.Resolve(["params,hessian-trace", "lambda-max"],
            MeasureScope.Model, notes));
        Assert.Equal(2, notes.Count);
        Assert.Contains("measure 'hessian-trace' is renamed 'hessian-trace-all'", notes[0]);
        Assert.All(notes, n => Assert.DoesNotContain('\n', n));
        notes.Clear();
        Assert.Equal(["hessian-trace-weight", "top-eigenvalues-weight"],
            GeometryMeasures.Parse("hessian-trace,top-eigen,hessian-trace-weight", notes));
        Assert.Equal(2, notes.Count);
        Assert.Contains("'top-eigen' is renamed 'top-eigenvalues-weight'", notes[1]);
        Assert.Same(MeasureRegistry.Get("hessian-trace-all"), MeasureRegistry.Get("hessian-trace"));
        Assert.Same(MeasureRegistry.Get("lambda-max-all"), MeasureRegistry.Get("lambda-max"));

        // A C# caller of the geometry job with the old names gets the numbers of the new ones.
        using var model = SmallMlp();
        using var data = ToyData();
        var old = MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc2", Measures = ["hessian-trace", "top-eigen"], Top = 2 });
        var now = MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc2", Measures = ["hessian-trace-weight",
            "top-eigenvalues-weight"], Top = 2 });
        Assert.Equal(["hessian-trace-weight", "top-eigenvalues-weight"], old.Measures);
        Assert.Equal(now.Layers[0].HessianTrace, old.Layers[0].HessianTrace);
        Assert.Equal(now.Layers[0].TopEigen!.Values, old.Layers[0].TopEigen!.Values);
    }

    [Fact]
    public void UnknownNamesAndNamesOfTheOtherScopeAreUsageErrors()
    {
        var unknown = Assert.Throws<OptionException>(() => MeasureRegistry.Resolve(["nope"], MeasureScope.Model));
        Assert.Equal("measures", unknown.Parameter);
        Assert.StartsWith("unknown measure 'nope'", unknown.Message);
        Assert.Contains("path-norm", unknown.Message);
        Assert.Contains("measure 'sharpness' is one number per model",
            Assert.Throws<OptionException>(() => GeometryMeasures.Parse("sharpness")).Message);
        Assert.Contains("measure 'density' is per layer",
            Assert.Throws<OptionException>(() => MeasureRegistry.Select(["density"])).Message);
        // An old name of the other scope is not mapped: 'top-eigen' was never a sweep measure.
        Assert.StartsWith("unknown measure 'top-eigen'",
            Assert.Throws<OptionException>(() => MeasureRegistry.Select(["top-eigen"])).Message);
        Assert.Throws<OptionException>(() => MeasureRegistry.Select([" , "]));
        using var model = SmallMlp();
        using var data = ToyData();
        Assert.Throws<OptionException>(() => MeasureJob.Measure(model, data, new MeasureSpec { Measures = ["lambda-max"] }));
    }

    [Fact]
    public void StoredValuesAndSweepFilesUnderOldNamesStillLoad()
    {
        // A run database written before the rename: rows under 'hessian-trace' and 'lambda-max'.
        var folder = Path.Combine(Path.GetTempPath(), "basin-catalog-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using (var store = RunStore.Open(folder))
            {
                store.StoreMeasure("r1", RunStore.OriginalVariant, "hessian-trace", 400, 1.5, null);
                store.StoreMeasure("r1", RunStore.OriginalVariant, "lambda-max", 9, 0.5, null);
                store.StoreMeasure("r1", RunStore.OriginalVariant, "hessian-trace-head", 3, 0.1, null);
            }
            using var reopened = RunStore.Open(folder);
            var stored = reopened.Measures("r1");
            Assert.Equal(["hessian-trace-all", "hessian-trace-head", "lambda-max-all"], stored.Select(m => m.Measure).Order());
            Assert.Equal(400, stored.Single(m => m.Measure == "hessian-trace-all").Value);
        }
        finally { Directory.Delete(folder, recursive: true); }

        // Values keyed by old names get the derived measures of the new ones; a value under the new name wins.
        var values = MeasureRegistry.WithDerived(new Dictionary<string, double> { ["hessian-trace"] = 400, ["lambda-max"] = 4,
            ["lambda-max-all"] = 9 }, 100);
        Assert.Equal(400, values["hessian-trace-all"]);
        Assert.Equal(2, values["hessian-trace-all@m"], 12);
        Assert.Equal(9, values["lambda-max-all"]);
        Assert.False(values.ContainsKey("hessian-trace"));
        Assert.Equal("hessian-trace-all@m", MeasureRegistry.CurrentName("hessian-trace@m"));
        Assert.Equal("hessian-trace-all@m", MeasureRegistry.FactsOf("hessian-trace@m").Name);

        // A sweep file of today's format naming the old measures.
        var sweep = SweepFile.Parse("""
            { "name": "old", "base": { "dataset": "moons", "model": "mlp:4", "epochs": 1 }, "axes": { "seed": [1] },
              "measures": ["params", "hessian-trace", "lambda-max"] }
            """, "old.json");
        Assert.Equal(["params", "hessian-trace-all", "lambda-max-all"], MeasureRegistry.Select(sweep.Measures).Select(m => m.Name));
    }
}
