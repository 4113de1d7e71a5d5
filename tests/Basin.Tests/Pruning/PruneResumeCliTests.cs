using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Basin.IO;
using Basin.Tests.Cli;
using Basin.Tests.Training;
using Xunit;

namespace Basin.Tests.Pruning;

/// <summary>
/// `basin prune --resume`: an IMP+AP series interrupted in round 2 and continued (from the round's checkpoint, from the
/// round's start without one, or after the round's run is gone) equals the series never interrupted, bit for bit at one thread.
/// </summary>
public class PruneResumeCliTests
{
    // Rounds of 300 epochs (milliseconds each): round 2 cannot end between its first line and the interrupt.
    static readonly string[] Series = ["--method", "imp+ap", "--rounds", "3", "--rate", "50", "--ap-rate", "10", "--epochs", "300",
        "--dnr-samples", "20", "--threads", "1"];

    static string TrainRun(string dir, string data)
    {
        var r = CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16", "--epochs", "2", "--batch-size", "16", "--threads",
            "1", "--seed", "3", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("runId").GetString()!;
    }

    static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    /// <summary>Starts a job and interrupts it once round <paramref name="round"/> has started; returns the id of that round's run.</summary>
    static string Interrupted(string dir, string source, string[]? job = null, string round = "2/3")
    {
        using var p = CliRunner.Start(dir, null, ["prune", source, .. job ?? Series]);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith($"round {round}: run", StringComparison.Ordinal))
            Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), $"round {round} never started");
        Assert.NotNull(line);
        CliRunner.Interrupt(p);
        var rest = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "prune did not stop after the interrupt");
        Assert.Equal(130, p.ExitCode);
        var hint = Regex.Match(stderr.Result, "resume with 'basin prune --resume (\\S+)'");
        Assert.True(hint.Success, stderr.Result);
        Assert.Equal(line.Split(' ')[3].TrimEnd(','), hint.Groups[1].Value);
        return hint.Groups[1].Value;
    }

    /// <summary>A round's figures without what may differ between jobs: its run id and the seconds it took.</summary>
    static string Figures(JsonElement round)
    {
        var node = JsonNode.Parse(round.GetRawText())!.AsObject();
        node.Remove("runId");
        node.Remove("seconds");
        return node.ToJsonString();
    }

    /// <summary>The stored per-epoch metrics of a round run without their seconds.</summary>
    static string[] Epochs(string dir, string runId)
    {
        using var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs"));
        return store.Get(runId).Epochs.Select(e =>
        {
            var node = JsonNode.Parse(e.GetRawText())!.AsObject();
            node.Remove("seconds");
            return node.ToJsonString();
        }).ToArray();
    }

    /// <summary>Rounds 1, 2, 3 of a job's result (round 0 is the source run).</summary>
    static JsonElement[] Rounds(JsonElement result) => result.GetProperty("rounds").EnumerateArray().Skip(1).ToArray();

    /// <summary>The final figures of the imp+ap round runs of <paramref name="dir"/> outside <paramref name="other"/>, by round.</summary>
    static JsonElement[] StoredRounds(string dir, JsonElement[] other)
    {
        using var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs"));
        var skip = other.Select(r => r.GetProperty("runId").GetString()).ToHashSet();
        var runs = store.List(method: "imp+ap").Where(r => !skip.Contains(r.Id)).ToArray();
        Assert.All(runs, r => Assert.Equal(Basin.Experiments.RunStatus.Finished, r.Status));
        return runs.Select(r => r.Final!.Value).OrderBy(f => f.GetProperty("round").GetInt32()).ToArray();
    }

    /// <summary>Equal figures, masks, weights and per-epoch metrics, round by round, in other runs.</summary>
    static void AssertSameSeries(string dir, JsonElement[] expected, JsonElement[] actual)
    {
        Assert.Equal(3, actual.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Figures(expected[i]), Figures(actual[i]));
            string a = expected[i].GetProperty("runId").GetString()!, b = actual[i].GetProperty("runId").GetString()!;
            Assert.NotEqual(a, b);
            foreach (var file in new[] { "mask.safetensors", "weights.safetensors" })
            {
                using var x = SafeTensors.Load(Path.Combine(dir, "runs", a, file));
                using var y = SafeTensors.Load(Path.Combine(dir, "runs", b, file));
                Assert.Equal(x.Tensors.Keys.Order(), y.Tensors.Keys.Order());
                foreach (var (name, t) in x.Tensors) TensorAssert.BitIdentical(t, y.Tensors[name], $"round {i + 1} {file} {name}");
            }
            Assert.Equal(Epochs(dir, a), Epochs(dir, b));
        }
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }

    [Fact]
    public void AnInterruptedSeriesResumedEqualsTheStraightSeriesBitForBit()
    {
        var dir = CliRunner.TempDir();
        var source = TrainRun(dir, CliDataFolder.Create(dir));
        var straight = Json(CliRunner.Run(dir, null, ["prune", source, .. Series, "--json"]));
        var round2 = Interrupted(dir, source);
        Assert.True(File.Exists(Path.Combine(dir, "runs", round2, "checkpoint.safetensors")));
        Assert.InRange(Epochs(dir, round2).Length, 0, 299);   // stopped inside round 2
        // Two more copies of the interrupted store: one loses round 2's checkpoint (a kill before its first epoch ended),
        // one loses round 2's run (a kill between rounds 1 and 2).
        var noCheckpoint = CliRunner.TempDir();
        var noRound2 = CliRunner.TempDir();
        CopyFolder(Path.Combine(dir, "runs"), Path.Combine(noCheckpoint, "runs"));
        CopyFolder(Path.Combine(dir, "runs"), Path.Combine(noRound2, "runs"));

        var resumed = Json(CliRunner.Run(dir, null, "prune", "--resume", round2, "--threads", "1", "--json"));
        Assert.Equal(Figures(straight.GetProperty("rounds")[0]), Figures(resumed.GetProperty("rounds")[0]));
        AssertSameSeries(dir, Rounds(straight), Rounds(resumed));
        Assert.Equal(round2, Rounds(resumed)[1].GetProperty("runId").GetString());
        var round1 = Rounds(resumed)[0].GetProperty("runId").GetString()!;
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", "--resume", round1), "has finished (round 3 of 3");

        File.Delete(Path.Combine(noCheckpoint, "runs", round2, "checkpoint.safetensors"));
        var restarted = CliRunner.Run(noCheckpoint, null, "prune", "--resume", round2, "--threads", "1");
        Assert.True(restarted.ExitCode == 0, restarted.ToString());
        Assert.Contains($"round 2/3: run {round2}, sparsity", restarted.Stdout);
        Assert.Contains("(resumed)", restarted.Stdout);
        Assert.DoesNotContain("continues from its checkpoint", restarted.Stdout);
        AssertSameSeries(noCheckpoint, Rounds(straight), StoredRounds(noCheckpoint, Rounds(straight)));

        Assert.Equal(0, CliRunner.Run(noRound2, null, "runs", "delete", round2).ExitCode);
        var continued = Json(CliRunner.Run(noRound2, null, "prune", "--resume", round1, "--threads", "1", "--json"));
        AssertSameSeries(noRound2, Rounds(straight), Rounds(continued));
        Assert.NotEqual(round2, Rounds(continued)[1].GetProperty("runId").GetString());
    }

    [Fact]
    public void AKilledSeriesResumedEqualsTheStraightSeriesBitForBit()
    {
        var dir = CliRunner.TempDir();
        var source = TrainRun(dir, CliDataFolder.Create(dir));
        var straight = Json(CliRunner.Run(dir, null, ["prune", source, .. Series, "--json"]));
        string round2;
        using (var p = CliRunner.Start(dir, null, ["prune", source, .. Series]))
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("round 2/3: run", StringComparison.Ordinal))
                Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "round 2 never started");
            Assert.NotNull(line);
            round2 = line.Split(' ')[3].TrimEnd(',');
            while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("  epoch 20:", StringComparison.Ordinal)) { }
            p.Kill();   // SIGKILL: no checkpoint beyond the last epoch's, no record of the outcome
            Assert.True(p.WaitForExit(60_000));
        }
        using (var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs")))
            Assert.Equal(Basin.Experiments.RunStatus.Interrupted, store.Get(round2).Summary.Status);
        var resumed = CliRunner.Run(dir, null, "prune", "--resume", round2, "--threads", "1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("continues from its checkpoint at epoch", resumed.Stdout);
        var rounds = StoredRounds(dir, Rounds(straight));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Figures(Rounds(straight)[i]), Figures(rounds[i]));
            string a = Rounds(straight)[i].GetProperty("runId").GetString()!, b = rounds[i].GetProperty("runId").GetString()!;
            foreach (var file in new[] { "mask.safetensors", "weights.safetensors" })
            {
                using var x = SafeTensors.Load(Path.Combine(dir, "runs", a, file));
                using var y = SafeTensors.Load(Path.Combine(dir, "runs", b, file));
                foreach (var (name, t) in x.Tensors) TensorAssert.BitIdentical(t, y.Tensors[name], $"round {i + 1} {file} {name}");
            }
            // A kill between an epoch's checkpoint and its record leaves that epoch without its DNR; all else is equal.
            var (want, got) = (Epochs(dir, a), Epochs(dir, b));
            Assert.Equal(300, got.Length);
            Assert.True(want.Zip(got).Count(w => w.First != w.Second) <= (i == 1 ? 1 : 0), $"round {i + 1}: epochs differ");
        }
    }

    [Fact]
    public void AnInterruptedOneShotNodeJobResumedEqualsTheStraightJob()
    {
        var dir = CliRunner.TempDir();
        var source = TrainRun(dir, CliDataFolder.Create(dir));
        string[] job = ["--method", "node", "--sparsity", "0.5", "--epochs", "300", "--dnr-samples", "20", "--threads", "1"];
        var straight = Json(CliRunner.Run(dir, null, ["prune", source, .. job, "--json"]));
        var round1 = Interrupted(dir, source, job, "1/1");
        var resumed = Json(CliRunner.Run(dir, null, "prune", "--resume", round1, "--threads", "1", "--json"));
        var (want, got) = (straight.GetProperty("rounds")[1], resumed.GetProperty("rounds")[1]);
        Assert.Equal(round1, got.GetProperty("runId").GetString());
        Assert.Equal(Figures(want), Figures(got));   // node counts included
        Assert.Equal(8, got.GetProperty("nodes").GetProperty("layers")[0].GetProperty("kept").GetInt32());
        using var x = SafeTensors.Load(Path.Combine(dir, "runs", want.GetProperty("runId").GetString()!, "weights.safetensors"));
        using var y = SafeTensors.Load(Path.Combine(dir, "runs", round1, "weights.safetensors"));
        foreach (var (name, t) in x.Tensors) TensorAssert.BitIdentical(t, y.Tensors[name], name);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", "--resume", round1), "has finished (round 1 of 1");
    }

    [Fact]
    public void BadResumesAreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        var source = TrainRun(dir, CliDataFolder.Create(dir));
        var r = CliRunner.Run(dir, null, "prune", "--resume", source);
        CliRunner.AssertOneLineError(r, $"run {source} is a train run, not a round of 'basin prune'; nothing to resume");
        Assert.Equal(1, r.ExitCode);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", "--resume", "nosuchrun"), "no run 'nosuchrun'");
        r = CliRunner.Run(dir, null, "prune", "--resume", source, "--method", "imp");
        CliRunner.AssertOneLineError(r, "--resume continues a pruning job with its recorded settings: give no --method with it");
        Assert.Equal(2, r.ExitCode);
        r = CliRunner.Run(dir, null, "prune", source, "--resume", source);
        CliRunner.AssertOneLineError(r, "give no RUN with it");
        Assert.Equal(2, r.ExitCode);
        r = CliRunner.Run(dir, null, "prune", "--method", "imp", "--rounds", "2");
        CliRunner.AssertOneLineError(r, "give RUN, the training run to prune, or --resume ROUND_RUN");
        Assert.Equal(2, r.ExitCode);
        // A one-shot job is a series of one round: once it has finished, there is nothing to resume.
        var done = Json(CliRunner.Run(dir, null, "prune", source, "--method", "random", "--sparsity", "0.5", "--epochs", "0", "--json"));
        var round = done.GetProperty("rounds")[1].GetProperty("runId").GetString()!;
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", "--resume", round), "has finished (round 1 of 1");
        // A round recorded before rounds had a series id.
        using (var store = Basin.Experiments.RunStore.Open(Path.Combine(dir, "runs")))
        {
            var old = store.Get(round);
            var config = JsonNode.Parse(old.Config.GetRawText())!.AsObject();
            config.Remove("series");
            store.Start(new Basin.Experiments.RunRecord("old-round", "prune", DateTime.UtcNow, old.Summary.Model, old.Summary.Dataset,
                old.Summary.Seed, config.ToJsonString(), "{}"));
            store.Finish<object>("old-round", Basin.Experiments.RunStatus.Cancelled, null);
        }
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "prune", "--resume", "old-round"),
            "run old-round was recorded before pruning jobs could be resumed (it has no series id); start the job again");
    }
}
