using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin landscape` and `basin connect` as subprocesses on small MLP runs: files, values that must agree, one-line errors.</summary>
public class LandscapeCliTests
{
    static string Train(string dir, string data, string model, int seed)
    {
        var r = CliRunner.Run(dir, null, "train", "--data", data, "--model", model, "--epochs", "2", "--batch-size", "32", "--seed", $"{seed}", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("runId").GetString()!;
    }

    static JsonElement Run(string dir, params string[] args)
    {
        var r = CliRunner.Run(dir, null, [.. args, "--json", "--threads", "1"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    static double[] Row(JsonElement grid, int i) => grid[i].EnumerateArray().Select(v => v.GetDouble()).ToArray();

    static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', path);
    }

    [Fact]
    public void LandscapeAndConnectWriteTheirFilesAndAgreeAtTheEnds()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var a = Train(dir, data, "mlp:8", 1);
        var b = Train(dir, data, "mlp:8", 2);

        var line = Run(dir, "landscape", a, "--dims", "1", "--range", "-1:1", "--steps", "5", "--samples", "64", "--test-samples", "16");
        Assert.Equal(5, line.GetProperty("alphas").GetArrayLength());
        var train = Row(line.GetProperty("train").GetProperty("loss"), 0);
        Assert.Equal(line.GetProperty("ownLoss").GetDouble(), train[2]);
        Assert.Equal(64, line.GetProperty("train").GetProperty("examples").GetInt64());
        var files = line.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.Equal(6, File.ReadAllLines(files.Single(f => f.EndsWith(".csv"))).Length);   // header + 5 points
        AssertPng(files.Single(f => f.EndsWith(".png")));
        Assert.True(File.Exists(files.Single(f => f.EndsWith(".json"))));

        var plane = Run(dir, "landscape", a, "--dims", "2", "--steps", "3", "--samples", "64", "--test-samples", "0");
        Assert.Equal(3, plane.GetProperty("train").GetProperty("loss").GetArrayLength());
        Assert.Equal(line.GetProperty("ownLoss").GetDouble(), Row(plane.GetProperty("train").GetProperty("loss"), 1)[1]);
        Assert.Equal(JsonValueKind.Null, plane.GetProperty("test").ValueKind);
        AssertPng(plane.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).Single(f => f.EndsWith(".png")));

        var eigen = Run(dir, "landscape", a, "--directions", "eigen", "--steps", "3", "--samples", "32", "--test-samples", "0");
        var lambda = eigen.GetProperty("eigenvalues").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.True(lambda.Length == 1 && lambda[0] > 0, eigen.ToString());
        Assert.Equal(1, eigen.GetProperty("directionNorms")[0].GetDouble(), 6);   // unit eigenvector

        var to = Run(dir, "landscape", a, "--directions", "to", b, "--range=-0.5:1.5", "--steps", "9", "--samples", "64", "--test-samples", "0");
        var barrier = to.GetProperty("barrier");
        Assert.True(barrier.GetProperty("chord").GetDouble() >= barrier.GetProperty("max").GetDouble() - 1e-12);

        var connect = Run(dir, "connect", a, b, "--epochs", "2", "--samples", "64", "--test-samples", "16", "--points", "5");
        var lineLoss = connect.GetProperty("line").GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var curveLoss = connect.GetProperty("curve").GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(5, curveLoss.Length);
        Assert.Equal(lineLoss[0], curveLoss[0]);      // θ(0) = θ_A exactly
        Assert.Equal(2, connect.GetProperty("epochs").GetArrayLength());
        AssertPng(connect.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).Single(f => f.EndsWith(".png")));
    }

    [Fact]
    public void BadInputGivesOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var a = Train(dir, data, "mlp:8", 1);
        var wide = Train(dir, data, "mlp:12", 1);
        string[] common = ["--samples", "16", "--test-samples", "0", "--threads", "1"];
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--range", "1:1", .. common]), "below its maximum");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--range", "1:-1", .. common]), "below its maximum");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--steps", "0", .. common]), "at least 2 steps");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--dims", "2", "--steps", "1001", .. common]), "--force");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--range", "a:b", .. common]), "MIN:MAX");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["landscape", a, "--directions", "to", wide, .. common]), "different architectures");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, ["connect", a, wide, "--epochs", "1", .. common]), "different architectures");
    }
}
