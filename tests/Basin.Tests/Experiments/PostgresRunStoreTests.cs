using System.Text.Json;
using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Experiments;

/// <summary>One private PostgreSQL server and one SLURM cluster shared by every test class that needs them.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>, ICollectionFixture<SlurmCluster>
{
    public const string Name = "services";
}

/// <summary>The run database on PostgreSQL beyond the contract: URLs, passwords, schema versions, concurrent claims, the CLI.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresRunStoreTests(PostgresServer server)
{
    static string Folder() => Path.Combine(Path.GetTempPath(), "basin-pg-runs-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public void AnUnreachableServerIsOneErrorThatNeverShowsThePassword()
    {
        var e = Assert.ThrowsAny<BasinException>(() => RunDatabase.Open(Folder(), "postgresql://alice:s3cr%40t@127.0.0.1:1/runs"));
        Assert.StartsWith("run store postgresql://alice@127.0.0.1:1/runs: ", e.Message);
        Assert.DoesNotContain("s3cr", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("postgresql://basin@127.0.0.1:5432", "names no database")]
    [InlineData("postgresql://basin@127.0.0.1:5432/db?color=red", "unknown parameter 'color'")]
    [InlineData("mysql://basin@127.0.0.1/db", "must be a folder or a URL")]
    public void AMalformedUrlIsRefusedBeforeConnecting(string url, string message)
    {
        var e = Assert.Throws<OptionException>(() => PostgresRunDatabase.Parse(url));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheUrlGivesHostPortUserPasswordAndDatabase()
    {
        var (b, location) = PostgresRunDatabase.Parse("postgresql://ann%20b:p%3Aw@db.example:6543/sweeps?sslmode=require");
        Assert.Equal(("db.example", 6543, "ann b", "p:w", "sweeps"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal(Npgsql.SslMode.Require, b.SslMode);
        Assert.Equal("postgresql://ann%20b@db.example:6543/sweeps", location);
        Assert.Equal(5432, PostgresRunDatabase.Parse("postgres://u@h/d").Builder.Port);
    }

    [Fact]
    public void AStoreOfANewerSchemaIsRefusedAndLeftAsItWas()
    {
        var url = server.NewDatabase();
        using (var db = RunDatabase.Open(Folder(), url)) db.InsertRun(new RunRecord("r1", "train", DateTime.UtcNow, null, null, 1, "{}", "{}"), "finished");
        server.Execute(url, "UPDATE basin_schema SET version = 99;");
        var e = Assert.ThrowsAny<BasinException>(() => RunDatabase.Open(Folder(), url));
        Assert.Contains($"was written by a newer Basin (schema 99, this Basin reads up to {RunDatabase.SchemaVersion})", e.Message);
        server.Execute(url, $"UPDATE basin_schema SET version = {RunDatabase.SchemaVersion};");
        using var again = RunDatabase.Open(Folder(), url);
        Assert.Equal("finished", again.Run("r1")!.Status);
    }

    [Fact]
    public void EightConcurrentWorkersClaimEveryPointExactlyOnce()
    {
        var url = server.NewDatabase();
        var points = SweepPlan.Expand(SweepFile.Parse(
            """{ "base": { "dataset": "moons", "model": "mlp:4" }, "axes": { "seed": [1,2,3,4,5,6,7,8,9,10], "lr": [0.1,0.2,0.3,0.4] } }""",
            "s.json", "s"));
        using (var db = RunDatabase.Open(Folder(), url)) Assert.Null(db.RegisterPoints("s", points));
        var claims = new System.Collections.Concurrent.ConcurrentBag<(string Worker, string Key)>();
        using var start = new Barrier(8);
        var workers = Enumerable.Range(0, 8).Select(w => Task.Factory.StartNew(() =>
        {
            using var db = RunDatabase.Open(Folder(), url);
            start.SignalAndWait();
            while (db.ClaimPoint("s", $"w{w}", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(1), 3) is { } claim)
                claims.Add(($"w{w}", claim.Key));
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(workers);
        Assert.Equal(40, points.Count);
        Assert.Equal(points.Select(p => p.Key).Order(), claims.Select(c => c.Key).Order());   // each point once, none twice
        using var check = RunDatabase.Open(Folder(), url);
        Assert.All(check.Points("s"), p => Assert.Equal(PointStatus.Running, p.Status));
        Assert.Equal(claims.ToDictionary(c => c.Key, c => c.Worker), check.Points("s").ToDictionary(p => p.Key, p => p.Worker!));
    }

    [Fact]
    public void TheCliKeepsRunsOnTheServerAndTheirFilesInTheRunsFolder()
    {
        var url = server.NewDatabase();
        var dir = CliRunner.TempDir();
        var train = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:8", "--samples", "64", "--test-samples", "32",
            "--epochs", "1", "--batch-size", "32", "--threads", "1", "--store", url, "--json");
        Assert.True(train.ExitCode == 0, train.ToString());
        var id = JsonDocument.Parse(train.Stdout).RootElement.GetProperty("runId").GetString()!;
        Assert.False(File.Exists(Path.Combine(dir, "runs", RunDatabase.FileName)));   // no SQLite database was made
        Assert.True(Directory.Exists(Path.Combine(dir, "runs", id)));

        var list = CliRunner.Run(dir, new Dictionary<string, string> { [RunDatabase.StoreVariable] = url }, "runs", "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(id, list.Stdout);
        var local = CliRunner.Run(dir, null, "runs", "list", "--json");   // the folder's own SQLite database does not have it
        Assert.DoesNotContain(id, local.Stdout);

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "list", "--store", "runs.db"), "--store must be a URL");
        var down = CliRunner.Run(dir, null, "runs", "list", "--store", "postgresql://basin:hunter2@127.0.0.1:1/x");
        CliRunner.AssertOneLineError(down, "run store postgresql://basin@127.0.0.1:1/x");
        Assert.DoesNotContain("hunter2", down.Stdout + down.Stderr);
    }
}
