using System.Diagnostics;
using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin sweep` and `basin measures` end to end: bad input, kill and resume with worker processes, the report.</summary>
public class SweepCliTests
{
    // Six small points on the moons toy set (no data files needed), slow enough per point to be killed mid-way.
    const string Sweep = """
        { "name": "tiny",
          "base": { "dataset": "moons", "samples": 256, "testSamples": 256, "model": "mlp:16,16", "epochs": 40, "batchSize": 16, "learningRate": 0.05 },
          "axes": { "learningRate": [0.02, 0.1], "seed": [1, 2, 3] },
          "measures": ["all"],
          "measureOptions": { "samples": 128, "noiseDraws": 2, "bisectionSteps": 4, "maxProbes": 10, "maxLanczosSteps": 10, "gradientSamples": 32, "coherenceGroup": 8, "sharpnessSamples": 64, "curvatureSamples": 64, "sharpnessBisectionSteps": 3 } }
        """;

    static string WriteSweep(string dir, string text = Sweep)
    {
        var path = Path.Combine(dir, "tiny.json");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void KilledSweepResumesWithExactlyTheRightPointsAndReports()
    {
        var dir = CliRunner.TempDir();
        var file = WriteSweep(dir);
        var runs = Path.Combine(dir, "runs");
        using (var p = CliRunner.Start(dir, null, "sweep", "run", file, "--workers", "2", "--threads", "1"))
        {
            // Kill the whole process tree as soon as the first point is done.
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                var line = p.StandardOutput.ReadLine();
                if (line is null || line.Contains("done ")) break;
            }
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        Dictionary<string, string> doneBefore;
        using (var store = SweepStore.Open(runs))
        {
            var points = store.Points("tiny");
            Assert.Equal(6, points.Count);
            doneBefore = points.Where(p => p.Status == PointStatus.Done).ToDictionary(p => p.Key, p => p.RunId!);
            Assert.InRange(doneBefore.Count, 1, 5);      // killed mid-way
        }

        var r = CliRunner.Run(dir, null, "sweep", "run", file, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Stdout))
        {
            Assert.Equal(6, doc.RootElement.GetProperty("total").GetInt32());
            Assert.Equal(doneBefore.Count, doc.RootElement.GetProperty("finishedBefore").GetInt32());
            Assert.Equal(6 - doneBefore.Count, doc.RootElement.GetProperty("finishedNow").GetInt32());
            Assert.Equal(0, doc.RootElement.GetProperty("open").GetInt32());
        }
        using (var store = SweepStore.Open(runs))
        using (var runStore = RunStore.Open(runs))
        {
            var points = store.Points("tiny");
            Assert.All(points, p => Assert.Equal(PointStatus.Done, p.Status));
            Assert.Equal(6, points.Select(p => p.RunId).Distinct().Count());
            foreach (var (key, run) in doneBefore) Assert.Equal(run, points.Single(p => p.Key == key).RunId);   // not trained again
            foreach (var p in points)
            {
                Assert.Equal(RunStatus.Finished, runStore.Get(p.RunId!).Summary.Status);
                var measures = runStore.Measures(p.RunId!);
                Assert.Equal(2 * Basin.Measures.MeasureRegistry.All.Count, measures.Count);
            }
            // Every finished training run belongs to exactly one point: nothing was trained twice.
            var finishedRuns = runStore.List().Where(x => x.Status == RunStatus.Finished).Select(x => x.Id).ToHashSet();
            Assert.Equal(finishedRuns.OrderBy(x => x), points.Select(p => p.RunId!).OrderBy(x => x));
        }

        var again = CliRunner.Run(dir, null, "sweep", "run", file, "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        using (var doc = JsonDocument.Parse(again.Stdout)) Assert.Equal(0, doc.RootElement.GetProperty("finishedNow").GetInt32());

        var report = CliRunner.Run(dir, null, "sweep", "report", file, "--json", "--out", Path.Combine(dir, "report"));
        Assert.True(report.ExitCode == 0, report.ToString());
        using (var doc = JsonDocument.Parse(report.Stdout))
        {
            var ranking = doc.RootElement.GetProperty("ranking");
            Assert.Equal(Basin.Measures.MeasureRegistry.All.Count + Basin.Measures.MeasureRegistry.Derived.Count, ranking.GetArrayLength());
            Assert.Equal(["learningRate", "seed"], doc.RootElement.GetProperty("axes").EnumerateArray().Select(a => a.GetString()));
            var pathNorm = ranking.EnumerateArray().Single(x => x.GetProperty("measure").GetString() == "path-norm");
            Assert.True(pathNorm.GetProperty("maxRelativeChange").GetDouble() < 1e-4);     // invariant, on six trained models
        }
        // The table reads at 100 columns (the least important columns left out); --wide shows them all.
        var text = CliRunner.Run(dir, new Dictionary<string, string> { ["COLUMNS"] = "100" }, "sweep", "report", file, "--out", Path.Combine(dir, "report"));
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.All(text.Stdout.Split('\n'), line => Assert.True(line.TrimEnd('\r').Length <= 100, "wider than 100: " + line));
        Assert.Matches(@"│ path-norm +│ neuron +│ (?:[+-]?\d\.\d\d|-) +│ (?:[+-]?\d\.\d\d|-) +│", text.Stdout);   // τ and Ψ unbroken
        Assert.Contains("Left out to fit 100 columns:", text.Stdout);
        var wideText = CliRunner.Run(dir, null, "sweep", "report", file, "--out", Path.Combine(dir, "report"), "--wide");
        Assert.Contains("ψ learningRate", wideText.Stdout);
        Assert.Contains("s/model", wideText.Stdout);
        Assert.True(File.Exists(Path.Combine(dir, "report", "ranking.csv")));
        Assert.True(File.Exists(Path.Combine(dir, "report", "models.csv")));
        var png = Path.Combine(dir, "report", "scatter", "relative-flatness.png");
        Assert.True(File.Exists(png));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    [Theory]
    [InlineData("""{ "base": { "dataset": "moons" }, "axes": { "depth": [1, 2] } }""", "unknown axis 'depth'")]
    [InlineData("""{ "base": { "dataset": "moons" }, "axes": { "seed": [] } }""", "axis 'seed' is empty")]
    [InlineData("""{ "base": { "dataset": "moons" }, "axes": { "seed": [1, 1] } }""", "duplicate point")]
    [InlineData("""{ "base": { "dataset": "moons" }, "axes": { "labelNoise": ["lots"] } }""", "is not a valid number")]
    public void BadSweepFilesAreOneLineCliErrors(string text, string cause)
    {
        var dir = CliRunner.TempDir();
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", WriteSweep(dir, text)), cause);
        Assert.False(File.Exists(Path.Combine(dir, "runs", RunDatabase.FileName)));     // nothing written
    }

    [Fact]
    public void UnknownMeasureNewerDatabaseAndUnknownSweepAreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        var file = WriteSweep(dir);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", file, "--measures", "params,wisdom"), "unknown measure 'wisdom'");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "report", "nosuch"), "no sweep 'nosuch'");

        var runs = Path.Combine(dir, "runs");
        using (var db = new SqliteConnection($"Data Source={Path.Combine(runs, RunDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", file), "newer Basin");
    }

    [Fact]
    public void MeasuresListsEveryMeasureWithItsFacts()
    {
        var r = CliRunner.Run(CliRunner.TempDir(), null, "measures", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var list = doc.RootElement.EnumerateArray().ToList();
        // The one catalog: the sweep's measures (scope "model") and those only 'basin geometry' computes (scope "layer").
        Assert.Equal(Basin.Measures.MeasureRegistry.Catalog.Count, list.Count);
        Assert.Equal(Basin.Measures.MeasureRegistry.All.Count, list.Count(x => x.GetProperty("scope").GetString()!.Contains("model")));
        var rf = list.Single(x => x.GetProperty("name").GetString() == "relative-flatness-normalized");
        Assert.Equal("neuron-wise", rf.GetProperty("invariance").GetString());
        Assert.False(rf.GetProperty("needsInitialWeights").GetBoolean());
    }
}
