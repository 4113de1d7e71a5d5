using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin runs export` and `basin runs compare` on two tiny recorded runs, checked against `runs show --json`.</summary>
public class RunsExportCompareCliTests
{
    static (string Id, JsonElement Run) Train(string dir, params string[] extra)
    {
        var r = CliRunner.Run(dir, null, ["train", "--dataset", "moons", "--samples", "64", "--test-samples", "32", "--model", "mlp:4",
            "--epochs", "2", "--json", .. extra]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
        var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        return (id, JsonDocument.Parse(show.Stdout).RootElement.Clone());
    }

    [Fact]
    public void ExportAndCompareShowTheDatabasesConfigAndFigures()
    {
        var dir = CliRunner.TempDir();
        var (a, runA) = Train(dir, "--lr", "0.05");
        var (b, runB) = Train(dir, "--lr", "0.1", "--method", "sam");

        var json = CliRunner.Run(dir, null, "runs", "export", a, b);
        Assert.True(json.ExitCode == 0, json.ToString());
        var doc = JsonDocument.Parse(json.Stdout).RootElement;
        var runs = doc.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([a, b], runs.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal("0.05", runs[0].GetProperty("config.learningRate").GetString());
        Assert.Equal("sam", runs[1].GetProperty("method").GetString());
        var testAccuracy = runA.GetProperty("summary").GetProperty("final").GetProperty("testAccuracy").GetDouble();
        Assert.Equal(testAccuracy, double.Parse(runs[0].GetProperty("final.testAccuracy").GetString()!, CultureInfo.InvariantCulture));
        var epochs = doc.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal([a, a, b, b], epochs.Select(e => e.GetProperty("run").GetString()));
        Assert.Equal(runB.GetProperty("epochs")[1].GetProperty("testLoss").GetDouble(),
            double.Parse(epochs[3].GetProperty("testLoss").GetString()!, CultureInfo.InvariantCulture));

        var csv = CliRunner.Run(dir, null, "runs", "export", "--csv", "--out", "exported");
        Assert.True(csv.ExitCode == 0, csv.ToString());
        var runsCsv = Path.Combine(dir, "exported", "runs.csv");
        Assert.Equal($"Wrote {runsCsv} (2 runs) and {Path.Combine(dir, "exported", "epochs.csv")} (4 epochs).", csv.Stdout.Trim());
        var lines = File.ReadAllLines(runsCsv);
        Assert.Equal(3, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal(["id", "kind", "status", "method", "name", "model", "dataset", "seed", "createdUtc", "finishedUtc"], header[..10]);
        int lr = Array.IndexOf(header, "config.learningRate");
        Assert.Equal([b, "0.1"], new[] { lines[1].Split(',')[0], lines[1].Split(',')[lr] });   // newest first
        Assert.Equal([a, "0.05"], new[] { lines[2].Split(',')[0], lines[2].Split(',')[lr] });

        var cmp = CliRunner.Run(dir, null, "runs", "compare", a, b, "--json");
        Assert.True(cmp.ExitCode == 0, cmp.ToString());
        var c = JsonDocument.Parse(cmp.Stdout).RootElement;
        var config = c.GetProperty("config").EnumerateArray().ToDictionary(d => d.GetProperty("key").GetString()!,
            d => (d.GetProperty("a").GetString(), d.GetProperty("b").GetString()));
        Assert.Equal(("0.05", "0.1"), config["config.learningRate"]);
        Assert.Equal(("sgd", "sam"), config["config.method"]);
        Assert.DoesNotContain("config.epochs", config.Keys);   // equal settings are not listed
        var acc = c.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("figure").GetString() == "testAccuracy");
        var accB = runB.GetProperty("summary").GetProperty("final").GetProperty("testAccuracy").GetDouble();
        Assert.Equal(testAccuracy, acc.GetProperty("a").GetDouble());
        Assert.Equal(accB, acc.GetProperty("b").GetDouble());
        Assert.Equal(accB - testAccuracy, acc.GetProperty("difference").GetDouble());

        var text = CliRunner.Run(dir, null, "runs", "compare", a[..12] == b[..12] ? a : a[..12], b);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches(@"config\.learningRate\s+│\s+0\.05\s+│\s+0\.1", text.Stdout);
        Assert.Contains(accB.ToString("G6", CultureInfo.InvariantCulture), text.Stdout);

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "compare", a, "zzz"), "no run 'zzz'");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "export", "zzz"), "no run 'zzz'");
        File.WriteAllText(Path.Combine(dir, "f"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "export", "--csv", "--out", "f"), "is a file");
        Assert.Equal(2, CliRunner.Run(dir, null, "runs", "export", "--csv", "--json").ExitCode);
    }
}
