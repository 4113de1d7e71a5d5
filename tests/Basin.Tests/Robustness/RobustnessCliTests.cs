using System.Text.Json;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Robustness;

/// <summary>`basin robustness` end to end on small generated data: tables, PNGs, identical images for every run, bad input.</summary>
public class RobustnessCliTests
{
    static JsonDocument Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout);
    }

    [Fact]
    public void EvaluatesTrainAndPruneRunsOnTheSameCorruptedImagesAndWritesTheTables()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16", "--epochs", "2",
            "--batch-size", "16", "--threads", "1", "--seed", "3", "--json"));
        var dense = train.RootElement.GetProperty("runId").GetString()!;
        double testAccuracy = train.RootElement.GetProperty("figures").GetProperty("testAccuracy").GetDouble();
        double testLoss = train.RootElement.GetProperty("figures").GetProperty("testLoss").GetDouble();
        using var prune = Json(CliRunner.Run(dir, null, "prune", dense, "--method", "random", "--sparsity", "0.5",
            "--epochs", "0", "--threads", "1", "--json"));
        var pruned = prune.RootElement.GetProperty("rounds")[1].GetProperty("runId").GetString()!;

        using var doc = Json(CliRunner.Run(dir, null, "robustness", dense, pruned, "--corruptions", "rotate,contrast,inverse",
            "--severities", "1-2", "--out", "rob", "--threads", "1", "--json"));
        var root = doc.RootElement;
        Assert.Equal(32, root.GetProperty("samples").GetInt32());
        var runs = root.GetProperty("runs");
        Assert.Equal(2, runs.GetArrayLength());
        Assert.Equal(0.5, runs[1].GetProperty("weightSparsity").GetDouble(), 3);   // ⌊0.5·n_l⌋ per layer of 12,544 and 160 weights
        Assert.Equal(0, runs[0].GetProperty("weightSparsity").GetDouble());
        var cells = runs[0].GetProperty("cells");
        // inverse is parameter-free: evaluated once, at the first severity.
        Assert.Equal(["clean", "rotate", "rotate", "contrast", "contrast", "inverse"],
            cells.EnumerateArray().Select(c => c.GetProperty("corruption").GetString()!));
        // The clean cell is the run's own test evaluation.
        Assert.Equal(testAccuracy, cells[0].GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(testLoss, cells[0].GetProperty("meanLoss").GetDouble(), 5);
        Assert.Single(root.GetProperty("similarity").EnumerateArray());
        Assert.Equal(3, root.GetProperty("redundancy").GetArrayLength());
        Assert.Equal(20, root.GetProperty("mostFragile").GetArrayLength());

        var folder = Path.Combine(dir, "rob");
        foreach (var file in new[] { "summary.csv", "similarity.csv", "redundancy.csv", "samples.csv", "result.json", "heatmap.png" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        foreach (var id in new[] { dense, pruned })
        {
            foreach (var png in new[] { "accuracy", "angle", "length", "polar" })
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' },
                    File.ReadAllBytes(Path.Combine(folder, $"{png}-{id}.png"))[..4]);
            var lines = File.ReadAllLines(Path.Combine(folder, $"geometry-{id}.csv"));
            Assert.Equal(1 + 6 * 32, lines.Length);
            Assert.StartsWith("corruption,severity,sample,label,prediction,correct,h_norm,w_y_norm,theta_y_deg", lines[0]);
        }
        // The thumbnails: the most fragile then the most robust samples of result.json, in its order; clean, then each
        // corruption at its middle severity (1 of 1–2; inverse is evaluated at 1 only).
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, "samples.png"))[..4]);
        var thumbnails = root.GetProperty("thumbnails");
        var listed = root.GetProperty("mostFragile").EnumerateArray().Select(s => ("fragile", s.GetProperty("sample").GetInt32()))
            .Concat(root.GetProperty("mostRobust").EnumerateArray().Select(s => ("robust", s.GetProperty("sample").GetInt32())));
        Assert.Equal(listed, thumbnails.GetProperty("rows").EnumerateArray()
            .Select(r => (r.GetProperty("group").GetString()!, r.GetProperty("sample").GetInt32())));
        Assert.Equal(40, thumbnails.GetProperty("rows").GetArrayLength());
        Assert.Equal([("clean", 0), ("rotate", 1), ("contrast", 1), ("inverse", 1)], thumbnails.GetProperty("columns").EnumerateArray()
            .Select(c => (c.GetProperty("corruption").GetString()!, c.GetProperty("severity").GetInt32())));
        // The dendrogram of two runs: one merge at 1 − their per-sample agreement over the corrupted sets.
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, "dendrogram.png"))[..4]);
        var merge = Assert.Single(root.GetProperty("methodTree").EnumerateArray());
        Assert.Equal((0, 1, 2), (merge.GetProperty("left").GetInt32(), merge.GetProperty("right").GetInt32(),
            merge.GetProperty("size").GetInt32()));
        Assert.Equal(1 - root.GetProperty("similarity")[0].GetProperty("corrupted").GetProperty("fraction").GetDouble(),
            merge.GetProperty("height").GetDouble());
        // Each run's per-sample table does not depend on which other runs are evaluated with it, nor their order:
        // every run sees the same corrupted images.
        using var alone = Json(CliRunner.Run(dir, null, "robustness", pruned, "--corruptions", "rotate,contrast,inverse",
            "--severities", "1-2", "--out", "alone", "--threads", "1", "--json"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, $"geometry-{pruned}.csv")),
            File.ReadAllBytes(Path.Combine(dir, "alone", $"geometry-{pruned}.csv")));
        Assert.Equal(JsonValueKind.Null, alone.RootElement.GetProperty("methodTree").ValueKind);   // one run: no dendrogram
        Assert.False(File.Exists(Path.Combine(dir, "alone", "dendrogram.png")));
    }

    [Fact]
    public void BadInputIsOneLineAndWritesNothing()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:8", "--epochs", "1", "--threads", "1",
            "--json"));
        var run = train.RootElement.GetProperty("runId").GetString()!;

        var r = CliRunner.Run(dir, null, "robustness", run, "--corruptions", "rotate,fog", "--out", "x");
        CliRunner.AssertOneLineError(r, "unknown corruption 'fog' (known: gaussian_noise");
        Assert.Equal(1, r.ExitCode);
        r = CliRunner.Run(dir, null, "robustness", run, "--severities", "0-5", "--out", "x");
        CliRunner.AssertOneLineError(r, "severity must be in 1–5, got 0");
        r = CliRunner.Run(dir, null, "robustness", run, "--severities", "6", "--out", "x");
        CliRunner.AssertOneLineError(r, "severity must be in 1–5, got 6");
        r = CliRunner.Run(dir, null, "robustness", "nosuchrun", "--out", "x");
        CliRunner.AssertOneLineError(r, "no run 'nosuchrun'");
        r = CliRunner.Run(dir, null, "robustness", run, run, "--out", "x");
        CliRunner.AssertOneLineError(r, "is given twice");
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(dir, "x")));
    }

    sealed class Sink(Action<Basin.Experiments.Robustness.RobustnessProgress> action)
        : IProgress<Basin.Experiments.Robustness.RobustnessProgress>
    {
        public void Report(Basin.Experiments.Robustness.RobustnessProgress value) => action(value);
    }

    [Fact]
    public void CancellingKeepsNothingPartialAndSaysToRunAgain()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16", "--epochs", "1",
            "--batch-size", "16", "--threads", "1", "--seed", "3", "--json"));
        var run = train.RootElement.GetProperty("runId").GetString()!;
        var output = Path.Combine(dir, "rob");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "summary.csv"), "an earlier job's table\n");
        using var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs"));
        using var cts = new CancellationTokenSource();
        var spec = new Basin.Experiments.Robustness.RobustnessSpec { Runs = [run], Corruptions = "rotate,contrast", Severities = "1-2",
            Out = output };
        // Cancelled once the clean set and the first corrupted set are done: 2 of the 5 sets.
        var e = Assert.Throws<OperationCanceledException>(() => Basin.Experiments.Robustness.RobustnessJob.Run(spec, store,
            new Sink(p => { if (p.Index == 2) cts.Cancel(); }), cts.Token));
        Assert.Equal($"cancelled after 2 of 5 sets; a robustness job writes its files at the end and keeps nothing partial (files " +
            $"already in {output} are left as they were); run it again: it writes the same files, byte for byte", e.Message);
        Assert.Equal(["summary.csv"], Directory.GetFiles(output).Select(Path.GetFileName));
        Assert.Equal("an earlier job's table\n", File.ReadAllText(Path.Combine(output, "summary.csv")));
    }
}
