using System.Text.Json;
using Basin.IO;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>
/// `basin train --tensorboard DIR`: the event file is read back as TensorBoard reads it (<see cref="TensorBoardEvents"/>)
/// and holds the run database's per-epoch figures.
/// </summary>
public class TensorBoardCliTests
{
    /// <summary>The scalars a training run's log must hold: its per-epoch figures in the run database, in order.</summary>
    static List<(string Tag, long Step, float Value)> ExpectedScalars(string dir, string id)
    {
        var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        var epochs = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("epochs").EnumerateArray().ToList();
        return epochs.SelectMany(e => new[]
        {
            ("loss/train", "trainLoss"), ("loss/test", "testLoss"), ("accuracy/train", "trainAccuracy"), ("accuracy/test", "testAccuracy"),
            ("gap/loss", "gap"), ("gap/accuracy", "accuracyGap"), ("learning_rate", "learningRate"),
        }.Select(t => (t.Item1, (long)e.GetProperty("epoch").GetInt32(), (float)e.GetProperty(t.Item2).GetDouble()))).ToList();
    }

    [Fact]
    public void TrainWritesTheEpochsFiguresAsTensorBoardScalars()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--samples", "64", "--test-samples", "32", "--model", "mlp:4",
            "--epochs", "2", "--tensorboard", "tb", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
        var scalars = TensorBoardEvents.Scalars(TensorBoardEvents.SingleFile(Path.Combine(dir, "tb", id)))
            .Select(s => (s.Tag, s.Step, s.Value)).ToList();

        var expected = ExpectedScalars(dir, id);
        Assert.Equal(14, expected.Count);
        Assert.Equal(expected, scalars);

        File.WriteAllText(Path.Combine(dir, "f"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:4", "--epochs", "1",
            "--tensorboard", "f"), "is a file");
    }

    /// <summary>The (min, max, num) of each tensor of a safetensors file, and its sum, by name.</summary>
    static Dictionary<string, (double Min, double Max, double Num, double Sum)> Extremes(string file)
    {
        using var f = SafeTensors.Load(file);
        return f.Tensors.ToDictionary(t => t.Key, t =>
        {
            var v = t.Value.to_type(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
            return (v.Min(), v.Max(), (double)v.Length, v.Sum());
        });
    }

    /// <summary>A histogram holds exactly the statistics of <paramref name="expected"/>, and its buckets count every value.</summary>
    static void AssertHistogramOf((double Min, double Max, double Num, double Sum) expected, TensorBoardHistogram h)
    {
        Assert.Equal(expected.Min, h.Min);
        Assert.Equal(expected.Max, h.Max);
        Assert.Equal(expected.Num, h.Num);
        Assert.Equal(expected.Sum, h.Sum, 1e-9 * Math.Max(1, Math.Abs(expected.Sum)) + 1e-12 * expected.Num);
        Assert.Equal(expected.Num, h.Buckets.Sum());
        Assert.True(h.BucketLimits.Count == h.Buckets.Count, $"{h.BucketLimits.Count} limits, {h.Buckets.Count} buckets");
        Assert.True(h.BucketLimits[^1] >= h.Max, $"last bucket limit {h.BucketLimits[^1]} below max {h.Max}");
    }

    [Fact]
    public void TrainHistogramsHoldEachParametersWeightsPerEpoch()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--samples", "64", "--test-samples", "32", "--model", "mlp:5,3",
            "--epochs", "3", "--tensorboard", "tb", "--tensorboard-histograms", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        var file = TensorBoardEvents.SingleFile(Path.Combine(dir, "tb", id));
        var histograms = TensorBoardEvents.Histograms(file);
        var weights = Extremes(doc.RootElement.GetProperty("weightsPath").GetString()!);
        Assert.Equal(6, weights.Count);   // three linear layers, weight and bias each
        // One histogram per parameter and epoch, after the epoch's scalars.
        Assert.Equal(Enumerable.Range(1, 3)
                .SelectMany(e => weights.Keys.Order(StringComparer.Ordinal).Select(k => ("weights/" + k, (long)e))),
            histograms.Select(h => (h.Tag, h.Step)).OrderBy(x => x.Item2).ThenBy(x => x.Item1, StringComparer.Ordinal));
        Assert.Equal(21, TensorBoardEvents.Scalars(file).Count);
        // The last epoch's histograms are those of the run's weights file.
        foreach (var h in histograms.Where(h => h.Step == 3)) AssertHistogramOf(weights[h.Tag["weights/".Length..]], h);
        // The first epoch's differ: training moved the weights.
        Assert.Contains(histograms.Where(h => h.Step == 1), h => weights[h.Tag["weights/".Length..]].Sum != h.Sum);

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:4", "--epochs", "1",
            "--tensorboard-histograms"), "needs --tensorboard");
    }

    static string[] GanTrain(params string[] more) =>
    [
        "gan", "train", "--data", "8gaussians", "--hidden", "16,16", "--iterations", "12", "--warmup", "2", "--warmup-critic-steps", "3",
        "--critic-steps", "2", "--batch-size", "32", "--samples", "256", "--eval-count", "64", "--seed", "4", "--threads", "1",
        "--progress-every", "4", .. more,
    ];

    [Fact]
    public void GanTrainWritesEachReportedIterationAndCheckpointHistograms()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, GanTrain("--eval-every", "6", "--checkpoint-every", "6", "--tensorboard", "tb",
            "--tensorboard-histograms", "--json"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        var file = TensorBoardEvents.SingleFile(Path.Combine(dir, "tb", id));

        // The scalars are the run database's per-iteration rows (iterations 4, 6, 8, 12; the exact W1 at 6 and 12 only).
        var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        var rows = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal([4, 6, 8, 12], rows.Select(e => e.GetProperty("iteration").GetInt32()));
        var expected = rows.SelectMany(e => new[]
        {
            ("wasserstein/critic_estimate", "wassersteinEstimate"), ("wasserstein/exact_w1", "exactW1"), ("loss/critic", "criticLoss"),
            ("loss/generator", "generatorLoss"), ("penalty", "penalty"),
        }.Where(t => e.TryGetProperty(t.Item2, out var v) && v.ValueKind == JsonValueKind.Number)
            .Select(t => (t.Item1, (long)e.GetProperty("iteration").GetInt32(), (float)e.GetProperty(t.Item2).GetDouble()))).ToList();
        Assert.Equal(4 * 4 + 2, expected.Count);
        Assert.Equal(expected, TensorBoardEvents.Scalars(file).Select(s => (s.Tag, s.Step, s.Value)).ToList());
        Assert.Equal((float)doc.RootElement.GetProperty("figures").GetProperty("exactW1").GetDouble(),
            TensorBoardEvents.Scalars(file).Single(s => s.Tag == "wasserstein/exact_w1" && s.Step == 12).Value);

        // Histograms of both networks' parameters at the checkpoints (6 and 12); the last ones are the saved networks'.
        var histograms = TensorBoardEvents.Histograms(file);
        var networks = Extremes(doc.RootElement.GetProperty("weightsPath").GetString()!);
        // A file's "generator.NAME" is the tag "weights/generator/NAME" (and the critic's likewise).
        static string TagOf(string key) => "weights/" + key[..key.IndexOf('.')] + "/" + key[(key.IndexOf('.') + 1)..];
        var names = networks.Keys.Select(TagOf).ToHashSet();
        Assert.Equal(12, names.Count);   // generator and critic: three linear layers, weight and bias each
        foreach (var step in new long[] { 6, 12 })
            Assert.Equal(names.Order(StringComparer.Ordinal),
                histograms.Where(h => h.Step == step).Select(h => h.Tag).Order(StringComparer.Ordinal));
        Assert.Equal(24, histograms.Count);
        foreach (var (key, stats) in networks) AssertHistogramOf(stats, histograms.Single(h => h.Step == 12 && h.Tag == TagOf(key)));

        File.WriteAllText(Path.Combine(dir, "f"), "");
        int before = Directory.GetDirectories(Path.Combine(dir, "runs")).Length;
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, GanTrain("--tensorboard", "f/sub")), "is a file");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, GanTrain("--tensorboard-histograms")), "needs --tensorboard");
        Assert.Equal(before, Directory.GetDirectories(Path.Combine(dir, "runs")).Length);   // nothing recorded
    }

    static string SweepFile(string dir, string name)
    {
        var path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, $$"""
            { "name": "{{name}}",
              "base": { "dataset": "moons", "samples": 64, "testSamples": 32, "model": "mlp:4", "epochs": 2, "batchSize": 16 },
              "axes": { "seed": [1, 2] },
              "measures": ["params"] }
            """);
        return path;
    }

    [Fact]
    public void SweepRunLogsEachPointsTrainingSideBySideFromWorkerProcessesAndInProcess()
    {
        var dir = CliRunner.TempDir();
        // Two worker processes (`sweep worker --tensorboard`), then one worker in this process, into one folder.
        var a = CliRunner.Run(dir, null, "sweep", "run", SweepFile(dir, "a"), "--workers", "2", "--threads", "1", "--tensorboard", "tb");
        Assert.True(a.ExitCode == 0, a.ToString());
        var b = CliRunner.Run(dir, null, "sweep", "run", SweepFile(dir, "b"), "--tensorboard", "tb");
        Assert.True(b.ExitCode == 0, b.ToString());

        var ids = new List<string>();
        foreach (var sweep in new[] { "a", "b" })
        {
            var status = CliRunner.Run(dir, null, "sweep", "status", sweep, "--json");
            using var doc = JsonDocument.Parse(status.Stdout);
            Assert.Equal(2, doc.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
            using var store = Basin.Experiments.SweepStore.Open(Path.Combine(dir, "runs"));
            ids.AddRange(store.Points(sweep).Select(p => p.RunId!));
        }
        Assert.Equal(4, ids.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal),
            Directory.GetDirectories(Path.Combine(dir, "tb")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var id in ids)
        {
            var expected = ExpectedScalars(dir, id);
            Assert.Equal(14, expected.Count);
            Assert.Equal(expected, TensorBoardEvents.Scalars(TensorBoardEvents.SingleFile(Path.Combine(dir, "tb", id)))
                .Select(s => (s.Tag, s.Step, s.Value)).ToList());
        }

        // Rerunning trains nothing and logs nothing more; a folder that is a file is refused before the sweep is registered.
        Assert.Equal(0, CliRunner.Run(dir, null, "sweep", "run", SweepFile(dir, "b"), "--tensorboard", "tb").ExitCode);
        Assert.All(ids, id => TensorBoardEvents.SingleFile(Path.Combine(dir, "tb", id)));
        File.WriteAllText(Path.Combine(dir, "f"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", SweepFile(dir, "c"), "--tensorboard", "f"), "is a file");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "status", "c"), "no sweep 'c'");
    }
}
