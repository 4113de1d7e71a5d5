using System.Text.Json;
using Basin.IO;
using Basin.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pruning;

/// <summary>`basin prune` end to end on small generated data: rounds recorded as runs, masks kept in the weights, bad input.</summary>
public class PruneCliTests
{
    static string TrainRun(string dir, string data, string model = "mlp:16", string epochs = "2")
    {
        var r = CliRunner.Run(dir, null, "train", "--data", data, "--model", model, "--epochs", epochs, "--batch-size", "16", "--threads", "1", "--seed", "3", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("runId").GetString()!;
    }

    static int RunCount(string dir)
    {
        var r = CliRunner.Run(dir, null, "runs", "list", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetArrayLength();
    }

    [Fact]
    public void ImpRecordsOneRunPerRoundWithItsMaskKeptInTheWeights()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var source = TrainRun(dir, data);
        var r = CliRunner.Run(dir, null, "prune", source, "--method", "imp+ap", "--rounds", "2", "--rate", "50", "--ap-rate", "10", "--epochs", "1",
            "--threads", "1", "--dnr-samples", "50", "--tag", "ticket", "--png", "plots/imp.png", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rounds = doc.RootElement.GetProperty("rounds");
        Assert.Equal(3, rounds.GetArrayLength());
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(dir, "plots", "imp.png"))[..4]);
        Assert.Equal(source, rounds[0].GetProperty("runId").GetString());
        // 784·16 + 16·10 = 12,704 prunable weights. Round 1 removes ⌊0.4·12704⌋ = 5081 by magnitude and ⌊0.1·12704⌋ = 1270 by AP,
        // leaving 6353; round 2 removes ⌊0.4·6353⌋ = 2541 and ⌊0.1·6353⌋ = 635.
        Assert.Equal(new[] { 0, 6351.0 / 12704, 9527.0 / 12704 }, rounds.EnumerateArray().Select(x => x.GetProperty("sparsity").GetDouble()));
        var ap = rounds[2].GetProperty("ap");
        Assert.Equal((6353, 2541, 635), (ap.GetProperty("aliveBefore").GetInt64(), ap.GetProperty("baseRemoved").GetInt64(), ap.GetProperty("apTarget").GetInt64()));
        Assert.Equal(50, rounds[1].GetProperty("dnr").GetProperty("layers")[0].GetProperty("examples").GetInt64());

        foreach (var round in rounds.EnumerateArray().Skip(1))
        {
            var id = round.GetProperty("runId").GetString()!;
            var folder = Path.Combine(dir, "runs", id);
            using var mask = SafeTensors.Load(Path.Combine(folder, "mask.safetensors"));
            using var weights = SafeTensors.Load(Path.Combine(folder, "weights.safetensors"));
            long pruned = 0;
            foreach (var (name, keep) in mask.Tensors)
            {
                using var zero = zeros(1);
                using var off = keep.eq(zero);
                using var nonzero = weights.Tensors[name].ne(zero).logical_and(off).sum();
                Assert.Equal(0, nonzero.item<long>());
                using var count = off.sum();
                pruned += count.item<long>();
            }
            Assert.Equal(round.GetProperty("sparsity").GetDouble() * 12704, pruned);
            var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
            Assert.True(show.ExitCode == 0, show.ToString());
            using var shown = JsonDocument.Parse(show.Stdout);
            Assert.Contains("\"kind\": \"prune\"", show.Stdout);
            Assert.Contains("\"dnr\"", show.Stdout);
            // eval reads a prune run's weights and training config like a training run's: its test accuracy is the run's.
            var eval = CliRunner.Run(dir, null, "eval", "--run", id, "--split", "test", "--threads", "1", "--json");
            Assert.True(eval.ExitCode == 0, eval.ToString());
            using var evaluated = JsonDocument.Parse(eval.Stdout);
            Assert.Equal(shown.RootElement.GetProperty("summary").GetProperty("final").GetProperty("testAccuracy").GetDouble(),
                evaluated.RootElement.GetProperty("accuracy").GetDouble(), 12);
        }
        var tagged = CliRunner.Run(dir, null, "runs", "list", "--tag", "ticket", "--method", "imp+ap", "--json");
        using var list = JsonDocument.Parse(tagged.Stdout);
        Assert.Equal(2, list.RootElement.GetArrayLength());

        // The random control at the last round's per-layer density: the same pruned count in every layer, other entries.
        var last = rounds[2].GetProperty("runId").GetString()!;
        var control = CliRunner.Run(dir, null, "prune", source, "--method", "random", "--like", last, "--epochs", "0", "--threads", "1", "--json");
        Assert.True(control.ExitCode == 0, control.ToString());
        using var c = JsonDocument.Parse(control.Stdout);
        static long[] Pruned(JsonElement round) => round.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("pruned").GetInt64()).ToArray();
        Assert.Equal(Pruned(rounds[2]), Pruned(c.RootElement.GetProperty("rounds")[1]));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", source, "--method", "random", "--like", source), "is a train run, not a prune run");
    }

    [Fact]
    public void OneShotMagnitudeWithoutTrainingPrunesExactlyAndNodeReportsBothSparsities()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var source = TrainRun(dir, data);
        var r = CliRunner.Run(dir, null, "prune", source, "--method", "magnitude", "--sparsity", "0.9", "--epochs", "0", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Stdout))
        {
            var last = doc.RootElement.GetProperty("rounds")[1];
            Assert.Equal(11433.0 / 12704, last.GetProperty("sparsity").GetDouble());   // ⌊0.9·12704⌋ = 11433
            Assert.Equal(0, last.GetProperty("steps").GetInt64());
            Assert.Equal("lr", doc.RootElement.GetProperty("rewind").GetString());
        }
        var node = CliRunner.Run(dir, null, "prune", source, "--method", "node", "--sparsity", "0.5", "--epochs", "1", "--threads", "1");
        Assert.True(node.ExitCode == 0, node.ToString());
        Assert.Contains("node sparsity 50.00% (units kept: fc1 8/16)", node.Stdout);
        Assert.Contains("round 1/1 done", node.Stdout);
    }

    [Fact]
    public void RewindingToAnEarlyEpochReplaysTheRunsFirstEpochsBitForBit()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var source = TrainRun(dir, data);                     // 2 epochs at a constant learning rate
        var oneEpoch = TrainRun(dir, data, epochs: "1");      // the same run stopped after its first epoch: θ₁
        var r = CliRunner.Run(dir, null, "prune", source, "--method", "random", "--sparsity", "0.5", "--rewind", "epoch:1", "--epochs", "0",
            "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("epoch:1", doc.RootElement.GetProperty("rewind").GetString());
        var folder = Path.Combine(dir, "runs", doc.RootElement.GetProperty("rounds")[1].GetProperty("runId").GetString()!);
        using var mask = SafeTensors.Load(Path.Combine(folder, "mask.safetensors"));
        using var pruned = SafeTensors.Load(Path.Combine(folder, "weights.safetensors"));
        using var theta1 = SafeTensors.Load(Path.Combine(dir, "runs", oneEpoch, "weights.safetensors"));
        foreach (var (name, t) in theta1.Tensors)
        {
            using var expected = mask.Tensors.TryGetValue(name, out var keep) ? t.mul(keep) : t.clone();
            Basin.Tests.Training.TensorAssert.BitIdentical(expected, pruned.Tensors[name], name);
        }
    }

    [Fact]
    public void CtrlCCancelsTheRoundInProgressAndKeepsTheRoundsBefore()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var source = TrainRun(dir, data);
        // Rounds of 300 epochs (milliseconds each): round 2 cannot end between its first line and SIGINT.
        using var p = CliRunner.Start(dir, null, "prune", source, "--method", "imp", "--rounds", "3", "--epochs", "300", "--threads", "1");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("round 2/3: run", StringComparison.Ordinal))
            Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "round 2 never started");
        Assert.NotNull(line);
        CliRunner.Interrupt(p);   // SIGINT, or SIGTERM where a background job inherited SIGINT as ignored
        var rest = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "prune did not stop after the interrupt");
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("rounds before 2 are recorded", stderr.Result);

        using var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs"));
        var rounds = store.List(method: "imp").OrderBy(r => r.CreatedUtc).ToArray();
        Assert.Equal(2, rounds.Length);
        Assert.Equal((Basin.Experiments.RunStatus.Finished, Basin.Experiments.RunStatus.Cancelled), (rounds[0].Status, rounds[1].Status));
        Assert.Equal(300, store.Get(rounds[0].Id).Epochs.Count);
        Assert.True(File.Exists(Path.Combine(dir, "runs", rounds[0].Id, "weights.safetensors")));
        Assert.Equal(Basin.Experiments.RunStatus.Finished, store.Get(source).Summary.Status);
    }

    [Fact]
    public void BadInputIsOneLineAndRecordsNothing()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var source = TrainRun(dir, data);
        var resnet = TrainRun(dir, data, model: "resnet", epochs: "1");
        int before = RunCount(dir);

        var r = CliRunner.Run(dir, null, "prune", source, "--method", "magnitude", "--sparsity", "1.5");
        CliRunner.AssertOneLineError(r, "sparsity must be in [0, 1), got 1.5");
        Assert.Equal(2, r.ExitCode);
        r = CliRunner.Run(dir, null, "prune", source, "--method", "random", "--sparsity", "-0.1");
        CliRunner.AssertOneLineError(r, "sparsity must be in [0, 1)");
        r = CliRunner.Run(dir, null, "prune", source, "--method", "imp");
        CliRunner.AssertOneLineError(r, "--method imp needs --rounds R");
        Assert.Equal(2, r.ExitCode);
        r = CliRunner.Run(dir, null, "prune", source, "--method", "lottery", "--sparsity", "0.5");
        CliRunner.AssertOneLineError(r, "method must be one of magnitude, random, node, imp, imp+ap");
        r = CliRunner.Run(dir, null, "prune", "nosuchrun", "--method", "magnitude", "--sparsity", "0.5");
        CliRunner.AssertOneLineError(r, "no run 'nosuchrun'");
        Assert.Equal(1, r.ExitCode);
        r = CliRunner.Run(dir, null, "prune", source, "--method", "imp", "--rounds", "2", "--rewind", "epoch:0");
        CliRunner.AssertOneLineError(r, "rewind epoch:K needs a whole number of epochs K ≥ 1, got '0'");
        r = CliRunner.Run(dir, null, "prune", source, "--method", "imp", "--rounds", "2", "--rewind", "epoch:3");
        CliRunner.AssertOneLineError(r, "trained for 2 epochs");
        r = CliRunner.Run(dir, null, "prune", resnet, "--method", "node", "--sparsity", "0.5");
        CliRunner.AssertOneLineError(r, "has no prunable layer for node pruning");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(before, RunCount(dir));

        // A prune run is not a training run to prune.
        var ok = CliRunner.Run(dir, null, "prune", source, "--method", "random", "--sparsity", "0.5", "--epochs", "0", "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        using var doc = JsonDocument.Parse(ok.Stdout);
        var pruneRun = doc.RootElement.GetProperty("rounds")[1].GetProperty("runId").GetString()!;
        r = CliRunner.Run(dir, null, "prune", pruneRun, "--method", "magnitude", "--sparsity", "0.5");
        CliRunner.AssertOneLineError(r, "is a prune run");
    }
}
