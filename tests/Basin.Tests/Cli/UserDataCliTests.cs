using System.Text.Json;
using Basin.Tests.Data;
using SkiaSharp;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin train` on the user's own data, and measuring the run it records.</summary>
public class UserDataCliTests
{
    [Fact]
    public void AFolderOfPngsTrainsEvaluatesAndMeasuresEndToEnd()
    {
        var dir = CliRunner.TempDir();
        var images = Path.Combine(dir, "images");
        // Two classes a 6×6 MLP can tell apart: a bright top half or a bright bottom half, with a little variation.
        for (int k = 0; k < 10; k++)
        {
            byte v = (byte)(180 + 5 * k);
            UserDataTests.WritePng(Path.Combine(images, "top", $"{k}.png"), 6, 6, (_, y) => y < 3 ? new SKColor(v, v, v) : new SKColor(0, 0, 0));
            UserDataTests.WritePng(Path.Combine(images, "bottom", $"{k}.png"), 6, 6, (_, y) => y >= 3 ? new SKColor(v, v, v) : new SKColor(0, 0, 0));
        }
        var train = CliRunner.Run(dir, null, "train", "--data-dir", "images", "--model", "mlp:8", "--epochs", "30", "--batch-size", "4",
            "--lr", "0.1", "--threads", "1", "--json");
        Assert.True(train.ExitCode == 0, train.ToString());
        using var doc = JsonDocument.Parse(train.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        Assert.Equal(1.0, doc.RootElement.GetProperty("epochs").EnumerateArray().Last().GetProperty("testAccuracy").GetDouble());

        // The run stores the folder's absolute path, so it is found from anywhere.
        var other = Path.Combine(dir, "elsewhere");
        Directory.CreateDirectory(other);
        var eval = CliRunner.Run(other, null, "eval", "--run", id, "--runs", Path.Combine(dir, "runs"), "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        var measure = CliRunner.Run(dir, null, "measure", "--run", id, "--measures", "relative-flatness", "--split", "train", "--json");
        Assert.True(measure.ExitCode == 0, measure.ToString());
        Assert.Contains("relative", measure.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ACsvFileTrainsWithAGivenTestFile()
    {
        var dir = CliRunner.TempDir();
        string Rows(int n) => "a,b,label\n" + string.Concat(Enumerable.Range(0, n).Select(i => $"{i % 2},{1 - i % 2},{(i % 2 == 0 ? "even" : "odd")}\n"));
        File.WriteAllText(Path.Combine(dir, "train.csv"), Rows(20));
        File.WriteAllText(Path.Combine(dir, "test.csv"), Rows(6));
        var r = CliRunner.Run(dir, null, "train", "--csv", "train.csv", "--test-data", "test.csv", "--model", "mlp:4", "--epochs", "20",
            "--batch-size", "5", "--lr", "0.2", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(1.0, doc.RootElement.GetProperty("epochs").EnumerateArray().Last().GetProperty("testAccuracy").GetDouble());
    }

    [Fact]
    public void TwoDataSourcesOrATestSetForABuiltInDataSetAreUsageErrors()
    {
        var dir = CliRunner.TempDir();
        var both = CliRunner.Run(dir, null, "train", "--csv", "a.csv", "--data-dir", "images");
        CliRunner.AssertOneLineError(both, "give one of --dataset, --data-dir, --csv and --tensors");
        Assert.Equal(2, both.ExitCode);
        var test = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--test-data", "t.csv");
        CliRunner.AssertOneLineError(test, "--test-data goes with your own data");
        Assert.Equal(2, test.ExitCode);
        var missing = CliRunner.Run(dir, null, "train", "--csv", "missing.csv");
        CliRunner.AssertOneLineError(missing, "CSV file not found");
        Assert.Equal(1, missing.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")) && Directory.GetDirectories(Path.Combine(dir, "runs")).Length > 0);
    }
}
