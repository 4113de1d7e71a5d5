using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin minima` as a subprocess: the constructed example's table, JSON and PNG; one-line errors on bad input.</summary>
public class MinimaCliTests
{
    [Fact]
    public void TheExampleClassifiesTheLineEscapesAndWritesThePlot()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "minima", "example", "--restarts", "2", "--png", "escape.png", "--json", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var points = root.GetProperty("classification").GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(["saddle", "boundary", "minimum", "minimum", "minimum", "boundary", "saddle"], points.Select(p => p.GetProperty("predicted").GetString()));
        Assert.All(points.Where(p => p.GetProperty("predicted").GetString() != "boundary"), p => Assert.True(p.GetProperty("agrees").GetBoolean()));
        var escape = root.GetProperty("escape");
        Assert.True(escape.GetProperty("endLoss").GetDouble() < 1.0 / 24 - 1e-3);
        Assert.True(escape.GetProperty("maxIncrease").GetDouble() <= 1e-15);
        var png = File.ReadAllBytes(Path.Combine(dir, "escape.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
        Assert.Equal(Path.Combine(dir, "escape.png"), root.GetProperty("plotPath").GetString());
        Assert.Equal(2, root.GetProperty("restarts").GetProperty("restarts").GetInt32());

        var table = CliRunner.Run(dir, null, "minima", "split", "--case", "fixture", "--lambdas", "0.5,1", "--threads", "1");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("│ 0.5 │ minimum   │ minimum  │ yes", table.Stdout);
        Assert.Contains("│ 1   │ boundary  │ -        │ -", table.Stdout);
        Assert.Contains("M = 0", table.Stdout);
    }

    [Fact]
    public void RunsThatCannotBeSplitGiveOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        string Train(string model)
        {
            var t = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--samples", "64", "--test-samples", "64", "--model", model,
                "--epochs", "1", "--batch-size", "16", "--threads", "1", "--json");
            Assert.True(t.ExitCode == 0, t.ToString());
            using var doc = JsonDocument.Parse(t.Stdout);
            return doc.RootElement.GetProperty("runId").GetString()!;
        }
        var relu = Train("mlp:3");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "split", relu), "needs a smooth activation (sigmoid or tanh)");
        var sigmoid = Train("mlp:3:sigmoid");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "split", sigmoid, "--layer", "1", "--unit", "2"), "the starting point is not critical: ‖∇L‖ = ");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "split", sigmoid, "--layer", "2"), "hidden layer 2 does not exist");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "escape", sigmoid, "--unit", "4"), "unit 4 does not exist");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "split", sigmoid, "--case", "fixture"), "either a run id or a constructed case");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "split", "--case", "fixture", "--lambdas", "0.5,x"), "--lambdas: 'x' is not a number");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "minima", "escape", "--case", "fixture", "--to", "0.5"), "no negative curvature at λ = 0.5");
    }
}
