using System.Diagnostics;
using System.Text.Json;
using Basin.Tests.Curvature;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>A long `basin geometry` stopped part-way keeps what it finished, says what it did not, and exits 130.</summary>
public class GeometryInterruptTests
{
    [Fact]
    public void InterruptedGeometryPrintsWhatIsFinishedAndNamesWhatIsMissing()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 256, test: 8);
        using var p = CliRunner.Start(dir, null, "geometry", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--data", data,
            "--layer", "all", "--measures", "all", "--samples", "256", "--threads", "1", "--json");
        // Off a terminal, a progress line comes at most every 10 s; wait for one past the first step, then interrupt.
        var stderr = new List<string>();
        string? line;
        while ((line = p.StandardError.ReadLine()) != null)
        {
            stderr.Add(line);
            if (line.StartsWith("measuring:", StringComparison.Ordinal) && !line.Contains("(1/", StringComparison.Ordinal)) break;
        }
        Assert.False(p.HasExited, "geometry ended before it could be interrupted:\n" + string.Join("\n", stderr));
        CliRunner.Interrupt(p);
        var stdout = p.StandardOutput.ReadToEndAsync();
        stderr.AddRange(p.StandardError.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(p.WaitForExit(120_000), "geometry did not stop");
        Assert.Equal(130, p.ExitCode);
        using var doc = JsonDocument.Parse(stdout.Result);
        var missing = doc.RootElement.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.NotEmpty(missing);
        Assert.NotEmpty(doc.RootElement.GetProperty("layers").EnumerateArray());
        var last = stderr.Last();
        Assert.StartsWith("basin: error: cancelled; not measured: ", last);
        Assert.Contains(missing[0], last);
    }
}

public class ProgressEstimateTests
{
    [Fact]
    public void TimeLeftIsTheMeanPaceOfTheFinishedStepsTimesTheStepsLeft()
    {
        Assert.Equal("", Basin.Cli.Commands.GeometryCommand.TimeLeft(TimeSpan.FromSeconds(5), 1, 10));
        // Step 3 of 10 starts after 2 steps in 20 s: 8 steps left at 10 s each.
        Assert.Equal(", about 80 s left", Basin.Cli.Commands.GeometryCommand.TimeLeft(TimeSpan.FromSeconds(20), 3, 10));
        Assert.Equal(", about 3 min left", Basin.Cli.Commands.GeometryCommand.TimeLeft(TimeSpan.FromSeconds(120), 3, 5));
    }
}

/// <summary>A long `basin reparametrize` stopped part-way keeps the comparisons it finished, names the rest, and exits 130.</summary>
public class ReparametrizeInterruptTests
{
    [Fact]
    public void InterruptedReparametrizePrintsTheFinishedComparisonsAndNamesTheMissingOnes()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 256, test: 8);
        using var p = CliRunner.Start(dir, null, "reparametrize", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5",
            "--data", data, "--layer", "all", "--neuron-wise", "--samples", "256", "--threads", "1", "--json");
        // The progress line off a terminal (every 10 s) counts both models' measures of every layer; wait past the first pair.
        var stderr = new List<string>();
        string? line;
        while ((line = p.StandardError.ReadLine()) != null)
        {
            stderr.Add(line);
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^comparing: .* \((\d+)/(\d+)");
            if (m.Success && int.Parse(m.Groups[1].Value) > 2)
            {
                // conv1, conv2, fc1, fc2: κ, κ normalized, trace, λ_max; the head fc3 3 more κ variants; the network trace, λ_max.
                Assert.Equal(2 * 25, int.Parse(m.Groups[2].Value));
                break;
            }
        }
        Assert.False(p.HasExited, "reparametrize ended before it could be interrupted:\n" + string.Join("\n", stderr));
        CliRunner.Interrupt(p);
        var stdout = p.StandardOutput.ReadToEndAsync();
        stderr.AddRange(p.StandardError.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(p.WaitForExit(120_000), "reparametrize did not stop");
        Assert.Equal(130, p.ExitCode);
        using var doc = JsonDocument.Parse(stdout.Result);
        var missing = doc.RootElement.GetProperty("missing").EnumerateArray().Select(m => m.GetString()!).ToList();
        var done = doc.RootElement.GetProperty("measures").EnumerateArray().ToList();
        Assert.NotEmpty(missing);
        Assert.NotEmpty(done);
        Assert.Equal(25, missing.Count + done.Count);
        Assert.Equal("conv1", done[0].GetProperty("layer").GetString());
        Assert.Equal("relative flatness (block)", done[0].GetProperty("measure").GetString());
        Assert.True(done[0].GetProperty("before").GetDouble() > 0);
        Assert.Equal("all lambda max", missing[^1]);
        var last = stderr.Last();
        Assert.StartsWith("basin: error: cancelled; not compared: ", last);
        Assert.Contains(missing[0], last);
    }
}
