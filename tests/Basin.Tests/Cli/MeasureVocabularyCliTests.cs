using System.Text.Json;
using Basin.IO;
using Basin.Measures;
using Basin.Tests.Curvature;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Cli;

/// <summary>
/// One measure vocabulary on the command line: `basin measures` lists the names `basin geometry` and the sweep accept;
/// `basin measure` and the old measure names still work for one release, with one note each on stderr; an unknown
/// name is a one-line usage error (exit 2).
/// </summary>
public class MeasureVocabularyCliTests
{
    /// <summary>The PyTorch cross-check LeNet-5 weights and 16 of its images as a tensors file: (work folder, geometry arguments).</summary>
    static (string Dir, string[] Args) LeNetOnTensors()
    {
        var dir = CliRunner.TempDir();
        var tensors = Path.Combine(dir, "io.safetensors");
        using (var io = SafeTensors.Load(PyTorchCrossCheckTests.Io))
        using (var labels = torch.tensor(PyTorchCrossCheckTests.Labels))
            SafeTensors.Save(tensors, new Dictionary<string, Tensor> { ["input"] = io.Tensors["input"], ["labels"] = labels });
        return (dir, ["--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--tensors", tensors, "--samples", "16",
            "--threads", "1", "--json"]);
    }

    [Fact]
    public void BothCommandsListAndAcceptTheSameNames()
    {
        var (dir, args) = LeNetOnTensors();
        var listed = CliRunner.Run(dir, null, "measures", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        using var facts = JsonDocument.Parse(listed.Stdout);
        var byScope = facts.RootElement.EnumerateArray().Select(f => (Name: f.GetProperty("name").GetString()!,
            Scope: f.GetProperty("scope").GetString()!)).ToArray();
        Assert.Equal(MeasureRegistry.Catalog.Select(f => f.Name), byScope.Select(f => f.Name));
        var geometryNames = byScope.Where(f => f.Scope.Contains("layer", StringComparison.OrdinalIgnoreCase)).Select(f => f.Name).ToArray();
        var sweepNames = byScope.Where(f => f.Scope.Contains("model", StringComparison.OrdinalIgnoreCase)).Select(f => f.Name).ToArray();
        Assert.Equal(MeasureRegistry.Names, sweepNames);

        // 'basin geometry --measures all' computes exactly the listed per-layer names, and names each in its help.
        var all = CliRunner.Run(dir, null, ["geometry", .. args, "--measures", "all", "--top", "2", "--deltas", "0.1", "--plot",
            Path.Combine(dir, "d.png")]);
        Assert.True(all.ExitCode == 0, all.ToString());
        using var doc = JsonDocument.Parse(all.Stdout);
        Assert.Equal(geometryNames, doc.RootElement.GetProperty("measures").EnumerateArray().Select(m => m.GetString()!));
        var help = CliRunner.Run(dir, null, "geometry", "--help");
        Assert.All(geometryNames, n => Assert.Contains(n, help.Stdout));
        Assert.DoesNotContain("lambda-max", help.Stdout);
        Assert.Equal("", all.Stderr.Trim());
    }

    [Fact]
    public void TheOldCommandAndOldNamesWorkWithOneNoteEach()
    {
        var (dir, args) = LeNetOnTensors();
        var now = CliRunner.Run(dir, null, ["geometry", .. args, "--measures", "hessian-trace-weight,top-eigenvalues-weight"]);
        Assert.True(now.ExitCode == 0, now.ToString());
        Assert.Equal("", now.Stderr.Trim());
        var old = CliRunner.Run(dir, null, ["measure", .. args, "--measures", "hessian-trace,top-eigen"]);
        Assert.True(old.ExitCode == 0, old.ToString());
        var notes = old.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, notes.Length);
        Assert.All(notes, n => Assert.StartsWith("basin: warning: ", n));
        Assert.Contains("'basin measure' is renamed 'basin geometry'", notes[0]);
        Assert.Contains("'hessian-trace' is renamed 'hessian-trace-weight'", notes[1]);
        Assert.Contains("'top-eigen' is renamed 'top-eigenvalues-weight'", notes[2]);
        // The same quantities: the JSON is the same but for the time taken.
        using var a = JsonDocument.Parse(now.Stdout);
        using var b = JsonDocument.Parse(old.Stdout);
        Assert.Equal(a.RootElement.GetProperty("layers").GetRawText(), b.RootElement.GetProperty("layers").GetRawText());
        Assert.Equal(a.RootElement.GetProperty("measures").GetRawText(), b.RootElement.GetProperty("measures").GetRawText());

        // The old command is hidden from the root's help; the new one is listed.
        var help = CliRunner.Run(dir, null, "--help");
        Assert.Contains("geometry", help.Stdout);
        Assert.DoesNotMatch(@"(?m)^\s+measure\s", help.Stdout);
    }

    [Fact]
    public void AnUnknownNameIsAOneLineUsageError()
    {
        var (dir, args) = LeNetOnTensors();
        var geometry = CliRunner.Run(dir, null, ["geometry", .. args, "--measures", "relative-flatness,nope"]);
        CliRunner.AssertOneLineError(geometry, "unknown measure 'nope'");
        Assert.Equal(2, geometry.ExitCode);
        var other = CliRunner.Run(dir, null, ["geometry", .. args, "--measures", "lambda-max-head"]);
        CliRunner.AssertOneLineError(other, "measure 'lambda-max-head' is one number per model");
        Assert.Equal(2, other.ExitCode);

        File.WriteAllText(Path.Combine(dir, "tiny.json"),
            """{ "base": { "dataset": "moons", "model": "mlp:4", "samples": 40, "epochs": 1 }, "axes": { "seed": [1] } }""");
        var sweep = CliRunner.Run(dir, null, "sweep", "run", "tiny.json", "--measures", "params,nope");
        CliRunner.AssertOneLineError(sweep, "unknown measure 'nope'");
        Assert.Equal(2, sweep.ExitCode);
        var tightness = CliRunner.Run(dir, null, "tightness", "twins", "--measures", "top-eigenvalues-weight");
        CliRunner.AssertOneLineError(tightness, "measure 'top-eigenvalues-weight' is per layer");
        Assert.Equal(2, tightness.ExitCode);
    }
}
