using System.Text.Json;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Training.Methods;

/// <summary>`basin train --method fam` on a bottleneck model, then eval and measure rebuilding it from the recorded spec.</summary>
public class FamBottleneckCliTests
{
    static string[] Train(string data, string model, params string[] extra) =>
        ["train", "--data", data, "--model", model, "--method", "fam", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--seed", "3", "--json", .. extra];

    [Fact]
    public void FamTrainsABottleneckModelAndEvalAndMeasureRebuildItFromTheRun()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, "LeNet5+Bottleneck:16"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        Assert.Equal("lenet5+bottleneck:16", doc.RootElement.GetProperty("model").GetString());
        var figures = doc.RootElement.GetProperty("figures");

        var eval = CliRunner.Run(dir, null, "eval", "--run", id, "--json", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        using var ev = JsonDocument.Parse(eval.Stdout);
        Assert.Equal("lenet5+bottleneck:16", ev.RootElement.GetProperty("model").GetString());
        Assert.Equal(figures.GetProperty("testAccuracy").GetDouble(), ev.RootElement.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(figures.GetProperty("testLoss").GetDouble(), ev.RootElement.GetProperty("loss").GetDouble(), 6);

        var measure = CliRunner.Run(dir, null, "measure", "--run", id, "--layer", "bottleneck", "--measures", "relative-flatness", "--samples", "32", "--json", "--threads", "1");
        Assert.True(measure.ExitCode == 0, measure.ToString());
        using var m = JsonDocument.Parse(measure.Stdout);
        var layer = Assert.Single(m.RootElement.GetProperty("layers").EnumerateArray());
        Assert.Equal("bottleneck", layer.GetProperty("layer").GetString());
        Assert.Equal(16 * 84, layer.GetProperty("parameters").GetInt64());
        Assert.True(layer.GetProperty("relativeFlatness").GetProperty("value").GetDouble() > 0);
    }

    [Fact]
    public void FamLayerCanBeTheBottleneckAndABadWidthIsAOneLineError()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, "mlp:16+bottleneck:4:relu", "--fam-layer", "bottleneck"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("mlp:16:relu+bottleneck:4:relu", doc.RootElement.GetProperty("model").GetString());

        int runs = Directory.GetDirectories(Path.Combine(dir, "runs")).Length;
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Train(data, "lenet5+bottleneck:0")), "bottleneck width '0' is not an integer from 1 to 65536");
        Assert.Equal(runs, Directory.GetDirectories(Path.Combine(dir, "runs")).Length); // a refused spec leaves no run behind
    }
}
