using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin sweep submit` without a cluster: the scripts a dry run writes, and the errors of bad input.</summary>
public class SweepSubmitCliTests
{
    const string Sweep = """
        { "name": "tiny", "base": { "dataset": "moons", "samples": 64, "model": "mlp:4", "epochs": 1 },
          "axes": { "seed": [1, 2, 3] }, "measures": ["params"] }
        """;

    static string Write(string dir)
    {
        var path = Path.Combine(dir, "tiny.json");
        File.WriteAllText(path, Sweep);
        return path;
    }

    [Fact]
    public void ADryRunRegistersThePointsAndWritesScriptsThatSayWhatTheyRun()
    {
        var dir = CliRunner.TempDir();
        var file = Write(dir);
        var r = CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--tasks", "3", "--cpus-per-task", "2",
            "--time", "01:30:00", "--gres", "gpu:1", "--lease", "90", "--max-attempts", "5", "--tensorboard", "tb", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("points").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("workerJobId").ValueKind);
        var runs = Path.Combine(dir, "runs");
        var workers = File.ReadAllText(Path.Combine(runs, "sweeps", "tiny", "slurm", "workers.sbatch"));
        foreach (var line in new[] { "#SBATCH --array=0-2", "#SBATCH --cpus-per-task=2", "#SBATCH --time=01:30:00", "#SBATCH --gres=gpu:1",
                     "#SBATCH --signal=B:TERM@120", "export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2" })
            Assert.Contains(line, workers);
        Assert.Contains($"'sweep' 'worker' '{file}' '--runs' '{runs}' '--threads' '2' '--lease' '90' '--max-attempts' '5' "
            + $"'--tensorboard' '{Path.Combine(dir, "tb")}' --worker "
            + "\"$SLURM_ARRAY_TASK_ID\"", workers);
        var report = File.ReadAllText(Path.Combine(runs, "sweeps", "tiny", "slurm", "report.sbatch"));
        Assert.Contains($"'sweep' 'report' '{file}' '--runs' '{runs}'", report);

        var status = CliRunner.Run(dir, null, "sweep", "status", "tiny", "--json");
        using var s = JsonDocument.Parse(status.Stdout);
        Assert.Equal(3, s.RootElement.GetProperty("counts").GetProperty("pending").GetInt32());
    }

    [Fact]
    public void RetryFailedGivesFailedPointsBackAndKeepsTheOthers()
    {
        var dir = CliRunner.TempDir();
        var file = Write(dir);
        Assert.Equal(0, CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run").ExitCode);
        string failed;
        using (var store = Basin.Experiments.SweepStore.Open(Path.Combine(dir, "runs")))
        {
            failed = store.Points("tiny")[1].Key;
            store.SetStatus("tiny", failed, Basin.Experiments.PointStatus.Failed, "diverged");
        }
        Assert.Equal(0, CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run").ExitCode);
        using (var store = Basin.Experiments.SweepStore.Open(Path.Combine(dir, "runs")))
            Assert.Equal(Basin.Experiments.PointStatus.Failed, store.Points("tiny")[1].Status);   // not without the flag
        Assert.Equal(0, CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--retry-failed").ExitCode);
        using var after = Basin.Experiments.SweepStore.Open(Path.Combine(dir, "runs"));
        Assert.All(after.Points("tiny"), p => Assert.Equal(Basin.Experiments.PointStatus.Pending, p.Status));
    }

    [Fact]
    public void BadInputIsOneLineAndSubmitsNothing()
    {
        var dir = CliRunner.TempDir();
        var file = Write(dir);
        // A PATH with dotnet but no sbatch: not a SLURM login node.
        var bin = Path.Combine(dir, "bin");
        Directory.CreateDirectory(bin);
        File.CreateSymbolicLink(Path.Combine(bin, "dotnet"), "/usr/bin/dotnet");
        var noSbatch = CliRunner.Run(dir, new Dictionary<string, string> { ["PATH"] = bin }, "sweep", "submit", file, "--slurm");
        CliRunner.AssertOneLineError(noSbatch, "sbatch not found: submit from a SLURM login node");

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file), "give --slurm");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--tasks", "0"),
            "--tasks must be at least 1");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--time", "1 day"),
            "time '1 day' has characters SLURM does not take");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--lease", "0"),
            "--lease must be a positive number of seconds");
        File.WriteAllText(Path.Combine(dir, "f"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run", "--tensorboard", "f"),
            "is a file");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "status", "nothing"), "no sweep 'nothing' in the run store");

        // The sweep file changed after its points were registered: refused, the registered points kept.
        Assert.Equal(0, CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run").ExitCode);
        File.WriteAllText(file, Sweep.Replace("mlp:4", "mlp:8"));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "sweep", "submit", file, "--slurm", "--dry-run"),
            "already in this run database with other settings");
    }
}
