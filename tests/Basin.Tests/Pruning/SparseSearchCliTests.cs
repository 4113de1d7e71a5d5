using System.Text.Json;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Pruning;

/// <summary>`basin sparse-search` end to end on small generated data.</summary>
public class SparseSearchCliTests
{
    static JsonDocument Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout);
    }

    [Fact]
    public void PicksTheBestScoredMaskTrainsItLikeNodePruningAndComparesWithRandomMasks()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16,16", "--epochs", "2",
            "--batch-size", "16", "--threads", "1", "--seed", "3", "--json"));
        var parent = train.RootElement.GetProperty("runId").GetString()!;
        var args = new[] { "sparse-search", parent, "--sparsities", "0.5", "--candidates", "3", "--random", "2", "--score-steps", "2",
            "--threads", "1", "--json" };
        using var doc = Json(CliRunner.Run(dir, null, [.. args, "--out", "ss", "--diagnostic", "2"]));
        var root = doc.RootElement;
        // The dense parent trained again with its own recipe ends where the run ended.
        Assert.Equal(train.RootElement.GetProperty("figures").GetProperty("testAccuracy").GetDouble(),
            root.GetProperty("dense").GetProperty("testAccuracy").GetDouble());
        var s = root.GetProperty("sparsities")[0];
        // Kept weights: 784·8 + 8·8 + 8·10 = 6,416 of 12,960.
        Assert.Equal(1 - 6416.0 / 12960, s.GetProperty("weightSparsity").GetDouble(), 12);
        Assert.Equal([8, 8], s.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("kept").GetInt32()));
        var scores = s.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("score").GetDouble()).ToArray();
        Assert.Equal(3, scores.Length);
        int best = s.GetProperty("best").GetInt32();
        Assert.Equal(Array.IndexOf(scores, scores.Min()), best);
        long pickSeed = s.GetProperty("candidates")[best].GetProperty("seed").GetInt64();
        Assert.Equal(pickSeed, s.GetProperty("search").GetProperty("seed").GetInt64());
        Assert.Equal(2, s.GetProperty("random").GetArrayLength());
        foreach (var f in new[] { "result.json", "networks.csv", "candidates.csv", "sparse-search.png" })
            Assert.True(File.Exists(Path.Combine(dir, "ss", f)), f);
        Assert.Equal(1 + 1 + 3 + 2, File.ReadAllLines(Path.Combine(dir, "ss", "networks.csv")).Length);
        // The diagnostic trains the best and the worst candidate fully; ρ of two points is ±1.
        var diagnostic = s.GetProperty("diagnostic").EnumerateArray().Select(x => x.GetProperty("index").GetInt32()).ToArray();
        Assert.Equal([best, Array.IndexOf(scores, scores.Max())], diagnostic);
        Assert.Equal(s.GetProperty("search").GetProperty("testAccuracy").GetDouble(),
            s.GetProperty("diagnostic")[0].GetProperty("testAccuracy").GetDouble());
        Assert.Equal(1, Math.Abs(s.GetProperty("scoreAccuracySpearman").GetDouble()), 12);

        // The pick, trained by 'basin prune --method node' with the same seed from θ₀, ends at the same test accuracy.
        using var node = Json(CliRunner.Run(dir, null, "prune", parent, "--method", "node", "--sparsity", "0.5", "--seed",
            pickSeed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rewind", "init", "--threads", "1", "--json"));
        Assert.Equal(s.GetProperty("search").GetProperty("testAccuracy").GetDouble(),
            node.RootElement.GetProperty("rounds")[1].GetProperty("testAccuracy").GetDouble());

        // Repeatable: the same command gives the same scores and accuracies.
        using var again = Json(CliRunner.Run(dir, null, args));
        Assert.Equal(scores, again.RootElement.GetProperty("sparsities")[0].GetProperty("candidates").EnumerateArray()
            .Select(c => c.GetProperty("score").GetDouble()));
    }

    /// <summary>A result without its file paths (they name the output folder).</summary>
    static string WithoutFiles(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("files");
        return node.ToJsonString();
    }

    [Fact]
    public void AnInterruptedSearchResumedEqualsTheStraightSearch()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16,16", "--epochs", "2",
            "--batch-size", "16", "--threads", "1", "--seed", "3", "--json"));
        var parent = train.RootElement.GetProperty("runId").GetString()!;
        // Networks of 200 epochs (milliseconds each): the first random mask cannot finish between the pick's line and SIGINT.
        string[] search = ["sparse-search", parent, "--sparsities", "0.5", "--candidates", "3", "--random", "2", "--score-steps", "2",
            "--epochs", "200", "--threads", "1"];
        var straight = CliRunner.Run(dir, null, [.. search, "--out", "straight", "--json"]);
        Assert.True(straight.ExitCode == 0, straight.ToString());

        using (var p = CliRunner.Start(dir, null, [.. search, "--out", "stopped"]))
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("s=0.5 search 1/1", StringComparison.Ordinal))
                Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "the pick was never trained");
            Assert.NotNull(line);
            CliRunner.Interrupt(p);
            var rest = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(60_000), "the search did not stop after the interrupt");
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("the finished scores and networks are kept in stopped; continue with 'basin sparse-search --resume stopped'",
                stderr.Result);
        }
        var journal = File.ReadAllLines(Path.Combine(dir, "stopped", "search-journal.jsonl"));
        // The dense parent, 3 scores and the pick; not the random mask in training.
        Assert.Equal(["dense", "score", "score", "score", "search"], journal.Select(l => l.Split('"')[3].Split(' ')[0]));
        Assert.False(File.Exists(Path.Combine(dir, "stopped", "result.json")));
        // A copy whose last journal line a kill cut short: that piece is done again.
        var torn = Path.Combine(dir, "torn");
        Directory.CreateDirectory(torn);
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "stopped"))) File.Copy(f, Path.Combine(torn, Path.GetFileName(f)));
        var tornJournal = Path.Combine(torn, "search-journal.jsonl");
        File.WriteAllText(tornJournal, File.ReadAllText(tornJournal)[..^20]);

        var resumed = CliRunner.Run(dir, null, "sparse-search", "--resume", "stopped", "--threads", "1", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(WithoutFiles(straight.Stdout), WithoutFiles(resumed.Stdout));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "straight", "networks.csv")),
            File.ReadAllText(Path.Combine(dir, "stopped", "networks.csv")));
        var again = CliRunner.Run(dir, null, "sparse-search", "--resume", "torn", "--threads", "1", "--json");
        Assert.Equal(WithoutFiles(straight.Stdout), WithoutFiles(again.Stdout));
        Assert.Equal(8, File.ReadAllLines(tornJournal).Length);   // 5 − 1 cut + 1 again + 2 random + "finished"

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", "--resume", "stopped"),
            "the sparse search in stopped has finished; nothing to resume");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", "--resume", "nowhere"),
            "nowhere holds no sparse search to continue");
        var r = CliRunner.Run(dir, null, "sparse-search", "--resume", "stopped", "--candidates", "5");
        CliRunner.AssertOneLineError(r, "--resume continues a search with its recorded settings: give no --candidates with it");
        Assert.Equal(2, r.ExitCode);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", "--sparsities", "0.5"),
            "give RUN, the dense parent, or --resume DIR");
    }

    [Fact]
    public void BadInputIsOneLine()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        using var train = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:8", "--epochs", "1", "--threads", "1",
            "--json"));
        var run = train.RootElement.GetProperty("runId").GetString()!;
        using var resnet = Json(CliRunner.Run(dir, null, "train", "--data", data, "--model", "resnet", "--epochs", "1", "--threads", "1",
            "--json"));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", run, "--sparsities", "0.5,1.2"),
            "each node sparsity must be in (0, 1), got 1.2");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", run, "--sparsities", "a"), "'a' is not a number");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", run, "--candidates", "0"), "candidates");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", run, "--score", "auc"),
            "score must be one of loss, accuracy");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", "nosuchrun"), "no run 'nosuchrun'");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sparse-search", resnet.RootElement.GetProperty("runId").GetString()!),
            "has no prunable layer for node pruning");
    }
}
