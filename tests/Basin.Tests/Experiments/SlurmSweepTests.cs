using System.Diagnostics;
using System.Text.Json;
using Basin.Experiments;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Experiments;

/// <summary>
/// Sweeps on the private SLURM cluster and PostgreSQL server the tests start: a job array that drains a sweep, a worker
/// killed with SIGKILL whose point is taken over after its lease, and the same report from both run stores.
/// </summary>
[Collection(PostgresCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlurmSweepTests(PostgresServer postgres, SlurmCluster slurm)
{
    // Four quick points on the moons toy set (no data files), with cheap measures.
    const string Quick = """
        { "name": "quick",
          "base": { "dataset": "moons", "samples": 256, "testSamples": 128, "model": "mlp:16", "epochs": 15, "batchSize": 32,
                    "learningRate": 0.1 },
          "axes": { "learningRate": [0.05, 0.2], "seed": [1, 2] },
          "measures": ["params", "parameter-norm", "path-norm", "inverse-margin"] }
        """;

    // Two slower points (seconds each), so that a worker can be killed in the middle of one.
    const string Slow = """
        { "name": "slow",
          "base": { "dataset": "moons", "samples": 4096, "testSamples": 128, "model": "mlp:64,64", "epochs": 12, "batchSize": 16,
                    "learningRate": 0.05 },
          "axes": { "seed": [1, 2] },
          "measures": ["params"] }
        """;

    static string Write(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, text);
        return path;
    }

    Dictionary<string, string> Env(string url) => new(slurm.Environment) { [RunDatabase.StoreVariable] = url };

    [Fact]
    public void ASweepSubmittedAsATwoTaskArrayDrainsWithEveryPointDoneOnceAndReports()
    {
        var url = postgres.NewDatabase();
        var dir = CliRunner.TempDir();
        var file = Write(dir, "quick", Quick);
        var runs = Path.Combine(dir, "runs");
        var submit = CliRunner.Run(dir, Env(url), "sweep", "submit", file, "--slurm", "--tasks", "2", "--cpus-per-task", "1",
            "--time", "00:10:00", "--json");
        Assert.True(submit.ExitCode == 0, submit.ToString());
        using var result = JsonDocument.Parse(submit.Stdout);
        var workersJob = result.RootElement.GetProperty("workerJobId").GetString()!;
        var reportJob = result.RootElement.GetProperty("reportJobId").GetString()!;
        var script = File.ReadAllText(result.RootElement.GetProperty("workerScript").GetString()!);
        Assert.Contains("#SBATCH --array=0-1", script);
        Assert.DoesNotContain(url, script);                                   // the store is passed by the environment

        var clock = Stopwatch.StartNew();
        while (slurm.Capture("squeue", ["-h", "-o", "%i"]).Trim().Length > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), "the sweep's jobs did not end within 5 minutes: "
                + slurm.Capture("squeue", ["-h"]));
            Thread.Sleep(500);
        }
        using var db = RunDatabase.Open(runs, url);
        var points = db.Points("quick");
        Assert.Equal(4, points.Count);
        Assert.All(points, p => Assert.Equal(PointStatus.Done, p.Status));
        Assert.All(points, p => Assert.Equal(1, p.Attempts));                 // each claimed once
        Assert.Equal(4, points.Select(p => p.RunId).Distinct().Count());
        Assert.Equal(4, db.Runs().Count);                                      // and trained once: no duplicate run
        var slurmFolder = Path.Combine(runs, "sweeps", "quick", "slurm");
        Assert.True(File.Exists(Path.Combine(slurmFolder, $"worker-{workersJob}_0.out")));
        Assert.True(File.Exists(Path.Combine(slurmFolder, $"worker-{workersJob}_1.out")));
        var report = File.ReadAllText(Path.Combine(slurmFolder, $"report-{reportJob}.out"));
        Assert.Contains("4 of 4 points done", report);
        Assert.True(File.Exists(Path.Combine(runs, "sweeps", "quick", "ranking.csv")));

        var status = CliRunner.Run(dir, Env(url), "sweep", "status", file);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("4 points: 4 done, 0 running, 0 pending, 0 failed", status.Stdout);
    }

    [Fact]
    public void AWorkerKilledMidPointLosesNothingItsPointIsTakenOverAfterTheLeaseAndResumed()
    {
        var url = postgres.NewDatabase();
        var dir = CliRunner.TempDir();
        var file = Write(dir, "slow", Slow);
        var runs = Path.Combine(dir, "runs");
        var dry = CliRunner.Run(dir, Env(url), "sweep", "submit", file, "--slurm", "--dry-run");   // registers the points only
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("dry run: nothing submitted", dry.Stdout);

        string key, runId;
        int epochsBefore;
        using (var first = CliRunner.Start(dir, Env(url), "sweep", "worker", file, "--lease", "3", "--threads", "1"))
        {
            first.StandardInput.Close();                                       // stdin at end, as /dev/null: it keeps working
            using var db = RunDatabase.Open(runs, url);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "the first worker never checkpointed a point");
                var p = db.Points("slow").FirstOrDefault(p => p.Status == PointStatus.Running && p.RunId is not null);
                if (p is not null && db.Epochs(p.RunId!).Count >= 2)
                {
                    (key, runId) = (p.Key, p.RunId!);
                    break;
                }
                Thread.Sleep(100);
            }
            first.Kill(entireProcessTree: true);                               // SIGKILL: no chance to give the point back
            first.WaitForExit();
            epochsBefore = db.Epochs(runId).Count;
            Assert.Equal(PointStatus.Running, db.Points("slow").Single(p => p.Key == key).Status);
        }

        var second = CliRunner.RunWithTimeout(dir, Env(url), TimeSpan.FromMinutes(4), "sweep", "worker", file, "--lease", "3",
            "--threads", "1", "--worker", "1");
        Assert.True(second.ExitCode == 0, second.ToString());
        using var check = RunDatabase.Open(runs, url);
        var points = check.Points("slow");
        Assert.All(points, p => Assert.Equal(PointStatus.Done, p.Status));
        var taken = points.Single(p => p.Key == key);
        Assert.Equal(runId, taken.RunId);                                      // the same run, resumed
        Assert.Equal(2, taken.Attempts);                                       // claimed again after the lease
        Assert.Equal(2, check.Runs().Count);                                   // nothing trained twice
        var epochs = check.Epochs(runId).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("epoch").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(1, 12), epochs);                         // every epoch recorded once
        Assert.InRange(epochsBefore, 2, 12);
    }

    [Fact]
    public void PostgresAndSqliteStoresGiveTheSameReportForTheSameSweep()
    {
        var url = postgres.NewDatabase();
        var dir = CliRunner.TempDir();
        var file = Write(dir, "quick", Quick);
        string Ranking(string runs, IReadOnlyDictionary<string, string>? env)
        {
            var run = CliRunner.Run(dir, env, "sweep", "run", file, "--runs", runs, "--threads", "1", "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            var report = CliRunner.Run(dir, env, "sweep", "report", file, "--runs", runs, "--json");
            Assert.True(report.ExitCode == 0, report.ToString());
            using var doc = JsonDocument.Parse(report.Stdout);
            return string.Join('\n', doc.RootElement.GetProperty("ranking").EnumerateArray().Select(r =>
                $"{r.GetProperty("measure").GetString()} {r.GetProperty("original")} {r.GetProperty("reparametrized")}"));
        }
        var sqlite = Ranking(Path.Combine(dir, "runs-sqlite"), null);
        var postgresRanking = Ranking(Path.Combine(dir, "runs-postgres"), new Dictionary<string, string> { [RunDatabase.StoreVariable] = url });
        Assert.Contains("path-norm", sqlite);
        Assert.Equal(sqlite, postgresRanking);
        Assert.False(File.Exists(Path.Combine(dir, "runs-postgres", RunDatabase.FileName)));
    }
}
