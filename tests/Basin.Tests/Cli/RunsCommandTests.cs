using Basin.IO;
using Basin.Experiments;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Basin.Tests.Cli;

public class RunsCommandTests
{
    [Fact]
    public void RunsListOnEmptyFolderSaysSoAndJsonIsAnEmptyArray()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "runs", "list");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("No runs yet", r.Stdout);
        var j = CliRunner.Run(dir, null, "runs", "list", "--json");
        Assert.Equal(0, j.ExitCode);
        Assert.Equal("[]", j.Stdout.Trim());
    }

    [Fact]
    public void RunsShowSaysThatAFamRunRecordedBeforeTheNormalizationOptionUsedTheUnnormalizedForm()
    {
        var dir = CliRunner.TempDir();
        var runs = Path.Combine(dir, "runs");
        using (var store = RunStore.Open(runs))
        {
            store.Start(new RunRecord("20261101-000000-old", "train", DateTime.UtcNow, "lenet5", "fashion-mnist", 1,
                """{"method":"sam+fam","famLambda":0.1}""", "{}"));
            store.Start(new RunRecord("20261201-000000-new", "train", DateTime.UtcNow, "lenet5", "fashion-mnist", 1,
                """{"method":"fam","famLambda":0.1,"famNormalization":"layer-inputs"}""", "{}"));
        }
        var old = CliRunner.Run(dir, null, "runs", "show", "20261101");
        Assert.True(old.ExitCode == 0, old.ToString());
        Assert.Contains("unnormalized λ·κ_Tr", old.Stdout);
        var fresh = CliRunner.Run(dir, null, "runs", "show", "20261201");
        Assert.True(fresh.ExitCode == 0, fresh.ToString());
        Assert.DoesNotContain("unnormalized", fresh.Stdout);

        using var doc = System.Text.Json.JsonDocument.Parse("""{"method":"fam","famLambda":0.1}""");
        Assert.Equal("none", Basin.Experiments.Training.TrainJobSpec.FromStored(doc.RootElement, "x").Settings["famNormalization"].GetString());
        using var now = System.Text.Json.JsonDocument.Parse("""{"method":"fam","famNormalization":"layer-inputs"}""");
        Assert.Equal("layer-inputs", Basin.Experiments.Training.TrainJobSpec.FromStored(now.RootElement, "x").Settings["famNormalization"].GetString());
    }

    [Fact]
    public void RunsShowPrintsTheConfigAndFinalFiguresAsTablesNotJson()
    {
        var dir = CliRunner.TempDir();
        using (var store = RunStore.Open(Path.Combine(dir, "runs")))
        {
            store.Start(new RunRecord("20261101-000000-abcd", "train", DateTime.UtcNow, "mlp:4", "moons", 1,
                """{"method":"sam","rho":0.05,"learningRate":0.1,"data":{"path":"x.csv"}}""", """{"basin":"0.1.0"}"""));
            store.Finish("20261101-000000-abcd", RunStatus.Finished, new { testAccuracy = 0.875 });
        }
        var r = CliRunner.Run(dir, null, "runs", "show", "20261101");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("method") && l.Contains("sam") && l.Contains("rho") && l.Contains("0.05"));
        Assert.Contains(lines, l => l.Contains("data.path") && l.Contains("x.csv"));   // nested settings flattened
        Assert.Contains(lines, l => l.Contains("testAccuracy") && l.Contains("0.875"));
        Assert.DoesNotContain("{\"method\"", r.Stdout);
    }

    [Fact]
    public void RunsShowUnknownIdIsAOneLineError()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "runs", "show", "nope");
        CliRunner.AssertOneLineError(r, "no run 'nope'");
    }

    [Fact]
    public void UnknownOptionAndCommandAreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "runs", "list", "--bogus"), "--bogus");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "frobnicate"), "frobnicate");
    }

    [Fact]
    public void DatabaseFromNewerVersionIsRefusedAndLeftUntouched()
    {
        var dir = CliRunner.TempDir();
        var runs = Path.Combine(dir, "runs");
        Directory.CreateDirectory(runs);
        var path = Path.Combine(runs, RunDatabase.FileName);
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"PRAGMA user_version = {RunDatabase.SchemaVersion + 1};";
            cmd.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(path);
        var r = CliRunner.Run(dir, null, "runs", "list");
        CliRunner.AssertOneLineError(r, "newer Basin");
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void CorruptDatabaseFileIsAOneLineError()
    {
        var dir = CliRunner.TempDir();
        var runs = Path.Combine(dir, "runs");
        Directory.CreateDirectory(runs);
        File.WriteAllText(Path.Combine(runs, RunDatabase.FileName), "this is not a database, just text that is long enough to matter....");
        var r = CliRunner.Run(dir, null, "runs", "list");
        CliRunner.AssertOneLineError(r, "not a usable Basin run database");
    }
}
