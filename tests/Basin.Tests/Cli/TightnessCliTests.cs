using System.Text.Json;
using Basin.Tightness;
using Xunit;

namespace Basin.Tests.Cli;

public class TightnessCliTests
{
    [Fact]
    public void ParityPrintsTheExactTableAndWritesIt()
    {
        var dir = CliRunner.TempDir();
        var file = Path.Combine(dir, "out", "parity.json");
        var r = CliRunner.Run(dir, null, "tightness", "parity", "--d", "20", "--m", "18,19,20", "--draws", "200", "--seed", "1", "--out", file, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(3, rows.Length);
        var exact = rows[1].GetProperty("exact");
        Assert.Equal(19, exact.GetProperty("m").GetInt32());
        Assert.Equal(ParityTradeoff.Exact(20, 19).LeastBoundError, exact.GetProperty("leastBoundError").GetDouble(), 12);
        Assert.Equal(200, rows[1].GetProperty("simulated").GetProperty("draws").GetInt32());
        Assert.Equal(19, doc.RootElement.GetProperty("worstM").GetInt32());
        Assert.True(File.Exists(file));
        var table = CliRunner.Run(dir, null, "tightness", "parity", "--d", "20", "--m", "19", "--draws", "0");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("0.1948", table.Stdout);
        Assert.Contains("no bound B(A, S) has average error below 0.1948 at m = 19", table.Stdout);
    }

    [Fact]
    public void DimensionAbove62IsOneLineError()
    {
        var r = CliRunner.Run(CliRunner.TempDir(), null, "tightness", "parity", "--d", "63");
        CliRunner.AssertOneLineError(r, "parity dimension d must be from 1 to 62");
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void UniverseSmallerThanSampleIsOneLineError()
    {
        var r = CliRunner.Run(CliRunner.TempDir(), null, "tightness", "twins", "--universe", "500", "--sample", "1000");
        CliRunner.AssertOneLineError(r, "the universe (500 points) must not be smaller than the sample (1000 draws)");
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void TwinsRunsEndToEndOnASmallUniverse()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96, test: 8);
        var output = Path.Combine(dir, "twins");
        var r = CliRunner.Run(dir, null, "tightness", "twins", "--data", data, "--universe", "60", "--sample", "40", "--models", "mlp:64",
            "--lrs", "0.01", "--seeds", "1,2", "--max-epochs", "300", "--batch-size", "20", "--stop-loss", "0.01", "--completions", "20",
            "--measures", "params,inverse-margin,parameter-distance", "--out", output, "--json", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(Math.Pow(1 - 1.0 / 60, 40), root.GetProperty("expectedUnseenFraction").GetDouble(), 12);
        var nets = root.GetProperty("networks").EnumerateArray().ToArray();
        Assert.Equal(2, nets.Length);
        foreach (var n in nets)
        {
            // L₁ is the error on (U, ℓ); an interpolating network has L₁ = 0 and L₂ > 0.
            Assert.Equal(1 - n.GetProperty("universeAccuracy").GetDouble(), n.GetProperty("l1").GetDouble(), 12);
            Assert.Equal(3, n.GetProperty("measures").GetArrayLength());
        }
        var bounds = root.GetProperty("bounds").EnumerateArray().ToArray();
        Assert.Equal(["params", "inverse-margin", "parameter-distance"], bounds.Select(b => b.GetProperty("measure").GetString()));
        var natural = root.GetProperty("natural").GetProperty("networks").EnumerateArray().Select(n => n.GetProperty("role").GetString()).ToArray();
        Assert.Equal(new[] { "h_true", "h_wrong" }, natural);
        Assert.True(File.Exists(Path.Combine(output, "results.json")));
        Assert.Equal(1 + 2 + 2, File.ReadAllLines(Path.Combine(output, "measures.csv")).Length);
    }
}
