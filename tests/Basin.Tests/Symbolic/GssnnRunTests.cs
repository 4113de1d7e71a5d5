using System.Text.Json;
using Basin.Experiments;
using Basin.Experiments.Symbolic;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Symbolic;

/// <summary>G-SSNN studies are recorded runs: one row per training, result.json, and an interrupted run resumes.</summary>
public class GssnnRunTests
{
    static string[] Study(string data, params string[] extra) =>
        ["gssnn", "study", "--programs", "2", "--no-controls", "--seeds", "2", "--baseline-seeds", "2", "--epochs", "60",
            "--train-count", "8", "--eval-count", "8", "--dimension", "16", "--data", data, "--threads", "1", .. extra];

    static string Arms(JsonElement result) => string.Join('\n', result.GetProperty("arms").EnumerateArray().Select(a =>
        a.GetProperty("name").GetString() + " " + a.GetProperty("runs").GetRawText()));

    [Fact]
    public void AnInterruptedStudyResumesKeepingItsTrainingsAndEndsAsAStraightRunDoes()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96, test: 64);
        var straight = CliRunner.Run(dir, null, Study(data, "--json", "--runs", Path.Combine(dir, "straight")));
        Assert.True(straight.ExitCode == 0, straight.ToString());
        using var expected = JsonDocument.Parse(straight.Stdout);

        string id;
        using (var p = CliRunner.Start(dir, null, Study(data)))
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("gssnn: 3/8", StringComparison.Ordinal)) { }
            Assert.NotNull(line);
            CliRunner.Interrupt(p);
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), "the study did not stop after the interrupt");
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("--resume", stderr.Result);
        }
        using (var store = RunStore.Open(Path.Combine(dir, "runs")))
        {
            var run = Assert.Single(store.List());
            Assert.Equal((GssnnJob.StudyKind, RunStatus.Cancelled), (run.Kind, run.Status));
            id = run.Id;
            Assert.InRange(store.Get(id).Epochs.Count, 3, 7);
        }

        var resumed = CliRunner.Run(dir, null, "gssnn", "study", "--resume", id, "--threads", "1", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("(from the earlier run)", resumed.Stderr);
        using var doc = JsonDocument.Parse(resumed.Stdout);
        Assert.Equal(Arms(expected.RootElement), Arms(doc.RootElement));   // deterministic: the same numbers as a straight run
        using var after = RunStore.Open(Path.Combine(dir, "runs"));
        Assert.Equal(RunStatus.Finished, after.Get(id).Summary.Status);
        Assert.Equal(8, after.Get(id).Epochs.Count);                       // every training once
        Assert.True(File.Exists(Path.Combine(dir, "runs", id, GssnnJob.ResultFile)));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "gssnn", "study", "--resume", id), "already finished");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "gssnn", "population", "--resume", id), "not a gssnn-population run");
    }
}
