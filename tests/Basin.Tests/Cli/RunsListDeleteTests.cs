using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`runs list` with the method column and its filters, and `runs delete`, through the real CLI.</summary>
public class RunsListDeleteTests
{
    /// <summary>Three runs: a finished sam run, a failed sgd run and a finished GAN run (no "method" in its config).</summary>
    static string Seed(out string runs)
    {
        var dir = CliRunner.TempDir();
        runs = Path.Combine(dir, "runs");
        using var store = RunStore.Open(runs);
        store.Start(new RunRecord("20261101-000000-aaaa", "train", new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), "lenet5",
            "fashion-mnist", 1, """{"method":"sam","rho":0.05}""", "{}"));
        store.Finish("20261101-000000-aaaa", RunStatus.Finished, new { testAccuracy = 0.875, accuracyGap = 0.0625 });
        store.Start(new RunRecord("20261102-000000-bbbb", "train", new DateTime(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc), "mlp",
            "fashion-mnist", 2, """{"method":"sgd"}""", "{}"));
        store.Finish<object>("20261102-000000-bbbb", RunStatus.Failed, null, "boom");
        store.Start(new RunRecord("20261103-000000-cccc", "gan", new DateTime(2026, 11, 3, 0, 0, 0, DateTimeKind.Utc), "g / c",
            "8gaussians", 3, """{"penalty":"lp"}""", "{}"));
        store.Finish<object>("20261103-000000-cccc", RunStatus.Finished, null);
        return dir;
    }

    [Fact]
    public void ListShowsTheMethodAndFiltersByMethodAndStatus()
    {
        var dir = Seed(out _);
        var all = CliRunner.Run(dir, null, "runs", "list", "--wide");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("method", all.Stdout);
        var samLine = all.Stdout.Split('\n').Single(l => l.Contains("20261101-000000-aaaa"));
        Assert.Contains(" sam ", samLine);
        Assert.Contains("87.5", samLine);

        var json = CliRunner.Run(dir, null, "runs", "list", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(["gan", "sgd", "sam"], doc.RootElement.EnumerateArray().Select(e => e.GetProperty("method").GetString()).ToArray());

        using var sam = JsonDocument.Parse(CliRunner.Run(dir, null, "runs", "list", "--json", "--method", "SAM").Stdout);
        Assert.Equal(["20261101-000000-aaaa"], sam.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToArray());
        using var fin = JsonDocument.Parse(CliRunner.Run(dir, null, "runs", "list", "--json", "--status", "finished").Stdout);
        Assert.Equal(["20261103-000000-cccc", "20261101-000000-aaaa"],
            fin.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToArray());
        var none = CliRunner.Run(dir, null, "runs", "list", "--method", "sgd", "--status", "finished");
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("No runs in", none.Stdout);
        Assert.Contains("method 'sgd' status 'finished'", none.Stdout);
    }

    [Fact]
    public void DeleteRemovesRowsAndFolderAndRefusesUnknownRunningOrLockedRuns()
    {
        var dir = Seed(out var runs);
        using var store = RunStore.Open(runs);
        var folder = store.RunFolder("20261102-000000-bbbb");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "weights.safetensors"), "x");
        store.AddEpoch("20261102-000000-bbbb", 1, new { epoch = 1 });

        var ok = CliRunner.Run(dir, null, "runs", "delete", "20261102");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("Deleted run 20261102-000000-bbbb", ok.Stdout);
        Assert.False(Directory.Exists(folder));
        Assert.Equal(["20261103-000000-cccc", "20261101-000000-aaaa"], store.List().Select(s => s.Id).ToArray());
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "show", "20261102"), "no run '20261102'");

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "delete", "nope"), "no run 'nope'");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "delete", "2026110"), "ambiguous");

        // This (live) test process holds the lock of a running run, and of a finished run being resumed.
        store.Start(new RunRecord("20261104-000000-dddd", "train", DateTime.UtcNow, "mlp", "fashion-mnist", 4, """{"method":"fam"}""", "{}"));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "delete", "20261104"), "is running");
        store.LockRun("20261101-000000-aaaa");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "delete", "20261101"), "in use by process");
        Assert.Equal(3, store.List().Count);
    }

    [Fact]
    public void DeleteKeepsARunThatIsASweepPoint()
    {
        var dir = Seed(out var runs);
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(runs, RunDatabase.FileName)};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                INSERT INTO sweep_points (sweep, point_key, ordinal, settings_json, spec_json, status, run_id, worker, updated_utc, message)
                VALUES ('lr-grid', 'k', 0, '{}', '{}', 'done', '20261101-000000-aaaa', NULL, '', NULL);
                """;
            cmd.ExecuteNonQuery();
        }
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "delete", "20261101"), "point of sweep 'lr-grid'");
        using var store = RunStore.Open(runs);
        Assert.Equal(3, store.List().Count);
    }
}
