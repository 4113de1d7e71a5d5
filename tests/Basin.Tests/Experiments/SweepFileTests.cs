using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using Xunit;

namespace Basin.Tests.Experiments;

public class SweepFileTests
{
    const string Good = """
        { "name": "t", // comments are allowed
          "base": { "dataset": "moons", "model": "mlp:8", "epochs": 2, "samples": 64 },
          "axes": { "lr": [0.01, 0.1], "batchSize": [16, 32], "seed": [1, 2, 3] },
          "measures": ["params", "inverse-margin"] }
        """;

    [Fact]
    public void ExpandsTheCartesianProductWithCanonicalKeys()
    {
        var sweep = SweepFile.Parse(Good, "good.json");
        Assert.Equal(12, sweep.PointCount);
        var points = SweepPlan.Expand(sweep);
        Assert.Equal(12, points.Count);
        Assert.Equal("learningRate=0.01,batchSize=16,seed=1", points[0].Key);
        Assert.Equal("learningRate=0.1,batchSize=32,seed=3", points[^1].Key);
        Assert.Equal(0.1, points[^1].Spec.LearningRate);
        Assert.Equal(32, points[^1].Spec.BatchSize);
        Assert.Equal("mlp:8", points[^1].Spec.Model);
        Assert.Equal(12, points.Select(p => p.SpecJson).Distinct().Count());
    }

    [Theory]
    [InlineData("""{ "base": {}, "axes": { "learningRat": [0.1] } }""", "unknown axis 'learningRat'")]
    [InlineData("""{ "base": {}, "axes": { "seed": [] } }""", "axis 'seed' is empty")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1, 2, 1] } }""", "duplicate point: axis 'seed' lists 1 twice")]
    [InlineData("""{ "base": {}, "axes": { "weightDecay": [5e-4, 0.0005] } }""", "duplicate point")]
    [InlineData("""{ "base": {}, "axes": { "lr": [0.1], "learningRate": [0.2] } }""", "name the same setting")]
    [InlineData("""{ "base": {}, "axes": { "learningRate": ["fast"] } }""", "\"fast\" is not a valid number")]
    [InlineData("""{ "base": {}, "axes": { "batchSize": [0] } }""", "batch size must be at least 1")]
    [InlineData("""{ "base": {}, "axes": { "model": ["mlp:x"] } }""", "hidden width 'x'")]
    [InlineData("""{ "base": { "epoch": 3 }, "axes": { "seed": [1] } }""", "unknown base setting 'epoch'")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1] }, "measures": ["sharpnes"] }""", "unknown measure 'sharpnes'")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1] }, "extra": 1 }""", "unknown key 'extra'")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1] }, "gap": "error" }""", "unknown gap 'error'")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1] }, "measureOptions": { "sampels": 5 } }""", "'measureOptions' is malformed")]
    [InlineData("""{ "base": {}, "axes": {} }""", "'axes' must be a non-empty object")]
    [InlineData("""{ "base": {}, "axes": { "seed": [1] """, "not valid JSON")]
    public void BadSweepFilesAreOneLineErrorsNamingTheCause(string text, string cause)
    {
        var e = Assert.Throws<BasinException>(() => SweepFile.Parse(text, "bad.json"));
        Assert.Contains(cause, e.Message);
        Assert.StartsWith("bad.json: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MethodAxisPassesThroughOnceTheSpecHasAMethod()
    {
        bool specHasMethod = SweepFile.Settings.ContainsKey("method");
        var text = """{ "base": {}, "axes": { "method": ["sgd"] } }""";
        if (specHasMethod) Assert.Equal("sgd", SweepPlan.Expand(SweepFile.Parse(text, "m.json"))[0].Settings["method"].Trim('"'));
        else Assert.Contains("'method' needs a Basin whose training spec has a method", Assert.Throws<BasinException>(() => SweepFile.Parse(text, "m.json")).Message);
    }
}

/// <summary>Sweep files checked before anything is expanded (issue 20).</summary>
public class SweepFileLimitTests
{
    const string Base = """ "base": { "dataset": "moons", "model": "mlp:4" } """;

    [Fact]
    public void ThePointCountIsCheckedBeforeExpandingAndMaxPointsRaisesTheLimit()
    {
        var axes = """ "axes": { "seed": [1, 2, 3, 4], "batchSize": [8, 16, 32] } """;
        Assert.Equal(12, SweepFile.Parse($$"""{ {{Base}}, {{axes}}, "maxPoints": 12 }""", "s.json").PointCount);
        var e = Assert.Throws<BasinException>(() => SweepFile.Parse($$"""{ {{Base}}, {{axes}}, "maxPoints": 11 }""", "s.json"));
        Assert.Contains("the axes give 12 points, more than the limit of 11", e.Message);
        Assert.Contains("'maxPoints' must be a whole number", Assert.Throws<BasinException>(() => SweepFile.Parse($$"""{ {{Base}}, {{axes}}, "maxPoints": 0.5 }""", "s.json")).Message);
    }

    [Fact]
    public void RepeatedKeysAreNamedWithTheirPath()
    {
        var e = Assert.Throws<BasinException>(() => SweepFile.Parse("""{ "base": { "dataset": "moons", "model": "mlp:4", "dataset": "spirals" }, "axes": { "seed": [1] } }""", "s.json"));
        Assert.Contains("key 'base.dataset' appears twice", e.Message);
    }
}
