using System.Diagnostics;
using System.Text.Json;
using Basin.IO;
using Basin.Models;
using Basin.Experiments;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>
/// Failures an adversarial user met (issue 20), through the real CLI: each is one `basin: error:` line with a
/// non-zero exit, checked before any work or run record, and no run is left in a false state.
/// </summary>
public class ReliabilityCliTests
{
    static IReadOnlyList<JsonElement> Runs(string dir)
    {
        var r = CliRunner.Run(dir, null, "runs", "list", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout.Length == 0 ? "[]" : r.Stdout);
        return doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray() : [];
    }

    [Fact]
    public void BadInputBecomesOneLineBeforeAnyRunIsRecorded()
    {
        var dir = CliRunner.TempDir();
        string[] toy = ["train", "--dataset", "moons", "--model", "mlp:4", "--epochs", "1", "--test-samples", "10"];

        var cuda = CliRunner.Run(dir, null, [.. toy, "--samples", "20", "--device", "cuda"]);
        CliRunner.AssertOneLineError(cuda, "CUDA is not available");
        Assert.Equal(1, cuda.ExitCode);

        var huge = CliRunner.Run(dir, null, [.. toy, "--samples", "1500000000"]);
        CliRunner.AssertOneLineError(huge, "at most 100,000,000 points");

        var emptyRuns = CliRunner.Run(dir, null, [.. toy, "--samples", "20", "--runs", ""]);
        CliRunner.AssertOneLineError(emptyRuns, "--runs was given an empty value");
        Assert.Equal(2, emptyRuns.ExitCode);
        var emptyOut = CliRunner.Run(dir, null, [.. toy, "--samples", "20", "--out", " "]);
        CliRunner.AssertOneLineError(emptyOut, "--out was given an empty value");

        Assert.Empty(Runs(dir));   // none of these left a run behind (--device cuda used to leave one per attempt)
    }

    [Fact]
    public void SweepFilesWithRepeatedKeysNullsOrTooManyPointsAreRefusedUpFront()
    {
        var dir = CliRunner.TempDir();
        void Refused(string name, string json, string cause)
        {
            File.WriteAllText(Path.Combine(dir, name), json);
            CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", name), cause);
        }
        Refused("dup.json", """{ "base": { "dataset": "moons", "model": "mlp:4" }, "axes": { "seed": [1, 2], "seed": [3] } }""", "key 'axes.seed' appears twice");
        Refused("null-base.json", """{ "base": { "dataset": "moons", "model": null }, "axes": { "seed": [1] } }""", "base setting 'model' is null");
        Refused("null-axis.json", """{ "base": { "dataset": "moons" }, "axes": { "samples": [100, null] } }""", "axis 'samples' lists null");
        var values = string.Join(",", Enumerable.Range(1, 1000));
        var clock = Stopwatch.StartNew();
        Refused("big.json", $$"""{ "base": { "dataset": "moons" }, "axes": { "seed": [{{values}}], "batchSize": [{{values}}], "epochs": [{{values}}] } }""",
            "the axes give 1,000,000,000 points, more than the limit of 10,000");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"counting the points took {clock.Elapsed}");
    }

    [Fact]
    public void PipesAndDevicesAreRefusedWithoutReadingThem()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var images = Directory.GetFiles(data, "train-images*").Single();
        File.Delete(images);
        using (var mkfifo = Process.Start("mkfifo", [images])) mkfifo.WaitForExit();
        // A FIFO used to block the read (and SIGTERM with it); /dev/zero used to be read without end.
        var fifo = CliRunner.RunWithTimeout(dir, null, TimeSpan.FromSeconds(90), "train", "--data", data, "--model", "mlp:4", "--epochs", "1");
        CliRunner.AssertOneLineError(fifo, "not a regular file");
        CliRunner.AssertOneLineError(CliRunner.RunWithTimeout(dir, null, TimeSpan.FromSeconds(90), "sweep", "run", "/dev/zero"), "not a regular file");
        CliRunner.AssertOneLineError(CliRunner.RunWithTimeout(dir, null, TimeSpan.FromSeconds(90), "eval", "--weights", "/dev/zero", "--model", "mlp:4"), "not a regular file");
        Assert.Empty(Runs(dir));
    }

    [Fact]
    public void ARunWhoseLastUpdateMakesTheWeightsNaNFailsAndItsWeightsAreRefused()
    {
        var dir = CliRunner.TempDir();
        // One batch per epoch with a learning rate of 1e30: the batch's loss is finite, the update is not.
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:8", "--samples", "64", "--batch-size", "64", "--test-samples", "32",
            "--epochs", "1", "--lr", "1e30", "--momentum", "0", "--threads", "1");
        CliRunner.AssertOneLineError(r, "training loss of NaN");
        var run = Assert.Single(Runs(dir));
        Assert.Equal(RunStatus.Failed, run.GetProperty("status").GetString());   // it used to be "finished", exit 0
        Assert.Contains("NaN", run.GetProperty("message").GetString());

        // A rescaling that overflows the weights is an error, not NaN values reported as "unchanged".
        var good = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:8", "--samples", "40", "--test-samples", "10", "--epochs", "1", "--json");
        Assert.True(good.ExitCode == 0, good.ToString());
        var goodId = JsonDocument.Parse(good.Stdout).RootElement.GetProperty("runId").GetString()!;
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "reparametrize", "--run", goodId, "--max-factor", "1e308", "--samples", "20"),
            "outputs are not finite");

        // eval of NaN weights is an error, not "loss NaN" with exit 0.
        using (var model = ModelSpec.Create("mlp:8", [2], 2, seed: 1))
        {
            using (TorchSharp.torch.no_grad()) model.Head.weight!.fill_(double.NaN);
            Weights.Save(model, Path.Combine(dir, "nan.safetensors"), new Dictionary<string, string> { ["basin.spec"] = "mlp:8" });
        }
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "eval", "--weights", "nan.safetensors", "--dataset", "moons", "--samples", "20"),
            "holds NaN or infinite values");
    }

    [Fact]
    public void ModelsLargerThanTheBudgetAreRefusedBeforeAllocation()
    {
        var dir = CliRunner.TempDir();
        var limited = new Dictionary<string, string> { ["BASIN_MAX_PARAMETERS"] = "100" };
        var r = CliRunner.Run(dir, limited, "train", "--dataset", "moons", "--model", "mlp:64", "--samples", "20", "--test-samples", "10");
        CliRunner.AssertOneLineError(r, "model 'mlp:64' has 322 parameters");
        Assert.Contains("BASIN_MAX_PARAMETERS", r.Stderr);
        Assert.Empty(Runs(dir));

        // A tiny weights file whose metadata names a 4-billion-parameter model: refused before the model is built.
        using (var model = ModelSpec.Create("mlp:4", [2], 2, seed: 1))
            Weights.Save(model, Path.Combine(dir, "small.safetensors"), new Dictionary<string, string> { ["basin.spec"] = "mlp:65536,65536" });
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "eval", "--weights", "small.safetensors", "--dataset", "moons", "--samples", "10"),
            "too few for the 4,295,360,514 parameters");
    }

    [Fact]
    public void AGanRunGivenToEvalMeasureOrReparametrizeIsAOneLineError()
    {
        var dir = CliRunner.TempDir();
        using (var store = RunStore.Open(Path.Combine(dir, "runs")))
        {
            store.Start(new RunRecord("20260101-000000-9a9a", "gan", DateTime.UtcNow, "mlp-gan", "8gaussians", 1, """{"iterations": 3}""", "{}"));
            store.Finish<object>("20260101-000000-9a9a", RunStatus.Finished, null);
        }
        foreach (var command in new[] { "eval", "geometry", "reparametrize" })
            CliRunner.AssertOneLineError(CliRunner.Run(dir, null, command, "--run", "20260101-000000-9a9a"), "is a gan run");
    }

    [Fact]
    public void ASecondResumeOrCoordinatorIsRefusedWhileTheFirstRunsAndTakenOverAfterItDies()
    {
        var dir = CliRunner.TempDir();
        var trained = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:4", "--samples", "40", "--test-samples", "10", "--epochs", "1", "--json");
        Assert.True(trained.ExitCode == 0, trained.ToString());
        var id = JsonDocument.Parse(trained.Stdout).RootElement.GetProperty("runId").GetString()!;
        File.WriteAllText(Path.Combine(dir, "tiny.json"), """{ "base": { "dataset": "moons", "model": "mlp:4", "samples": 40, "epochs": 1 }, "axes": { "seed": [1] } }""");

        // Another live process holds the locks (a `sleep`, standing in for a running `basin`).
        using var holder = Process.Start("sleep", ["60"]);
        try
        {
            var start = "ticks:" + File.ReadAllText($"/proc/{holder.Id}/stat").Split(") ")[1].Split(' ')[19];
            using (var db = new SqliteConnection($"Data Source={Path.Combine(dir, "runs", RunDatabase.FileName)};Pooling=False"))
            {
                db.Open();
                foreach (var name in new[] { "run:" + id, "sweep:tiny" })
                {
                    using var cmd = db.CreateCommand();
                    cmd.CommandText = "INSERT OR REPLACE INTO locks (name, pid, process_start, host, acquired_utc) VALUES ($n, $p, $s, $h, '2026-01-01');";
                    cmd.Parameters.AddWithValue("$n", name);
                    cmd.Parameters.AddWithValue("$p", holder.Id);
                    cmd.Parameters.AddWithValue("$s", start);
                    cmd.Parameters.AddWithValue("$h", Environment.MachineName);
                    cmd.ExecuteNonQuery();
                }
                using var status = db.CreateCommand();
                status.CommandText = "UPDATE runs SET status = 'running' WHERE id = $id;";
                status.Parameters.AddWithValue("$id", id);
                status.ExecuteNonQuery();
            }
            Assert.Equal(RunStatus.Running, Runs(dir).Single().GetProperty("status").GetString());
            CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--resume", id), $"already in progress in process {holder.Id}");
            CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "run", "tiny.json"), $"already in progress in process {holder.Id}");
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
        // The holder is gone: the run is shown as interrupted (not "running" for ever), and a resume takes the lock over.
        var interrupted = Runs(dir).Single();
        Assert.Equal(RunStatus.Interrupted, interrupted.GetProperty("status").GetString());
        var resumed = CliRunner.Run(dir, null, "train", "--resume", id, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(RunStatus.Finished, Runs(dir).Single().GetProperty("status").GetString());
    }
}

/// <summary>Failed sweep points: retried on request, and never silently left out of the report (issue 20).</summary>
public class SweepRetryCliTests
{
    [Fact]
    public void FailedPointsAreCountedAsMissingAndRetriedOnRequest()
    {
        var dir = CliRunner.TempDir();
        // One batch per epoch: the point with a learning rate of 1e30 ends with NaN weights and fails.
        File.WriteAllText(Path.Combine(dir, "s.json"), """
            { "name": "s", "base": { "dataset": "moons", "model": "mlp:4", "samples": 40, "testSamples": 10, "batchSize": 40, "epochs": 1, "momentum": 0 },
              "axes": { "learningRate": [0.05, 1e30] }, "measures": ["params"] }
            """);
        var first = CliRunner.Run(dir, null, "sweep", "run", "s.json");
        Assert.Contains("failed learningRate=1E+30", first.Stdout);
        Assert.Contains("--retry-failed", first.Stdout);

        var report = CliRunner.Run(dir, null, "sweep", "report", "s.json", "--json");
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Equal(1, JsonDocument.Parse(report.Stdout).RootElement.GetProperty("missing").GetInt32());
        var table = CliRunner.Run(dir, null, "sweep", "report", "s.json");
        Assert.Contains("1 of 2 points are missing (1 failed, 0 not finished)", table.Stdout);

        var again = CliRunner.Run(dir, null, "sweep", "run", "s.json");
        Assert.DoesNotContain("failed learningRate", again.Stdout);   // failed points stay failed unless asked
        var retried = CliRunner.Run(dir, null, "sweep", "run", "s.json", "--retry-failed");
        Assert.Contains("failed learningRate=1E+30", retried.Stdout);   // tried again (and it diverges again)
    }
}
