using System.Diagnostics;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>
/// SIGTERM as the README states it: the command stops like Ctrl+C (exit 130, a checkpoint to resume from); one that does
/// not stop within the grace (30 s, or BASIN_TERMINATION_GRACE seconds) is ended with exit 143 and one line; a second
/// SIGTERM ends the process at once. The command is a training run whose single batch takes seconds (8,192 examples
/// through a 2048-2048 MLP on one thread), so that it stops only at the batch's end.
/// </summary>
public class TerminationGraceTests
{
    const int ExitTerminated = 143;   // 128 + SIGTERM, as the CLI exits after the grace and as the kernel reports a kill

    static Process StartSlowTraining(string dir, Dictionary<string, string>? env = null)
    {
        var data = CliDataFolder.Create(dir, train: 8192, test: 64);
        var p = CliRunner.Start(dir, env, "train", "--data", data, "--model", "mlp:2048,2048", "--batch-size", "8192", "--epochs", "3",
            "--test-samples", "64", "--threads", "1");
        // "mlp:2048,2048: run ID" comes just before the first batch; a moment later that batch is under way.
        var first = p.StandardOutput.ReadLine();
        Assert.True(first is not null && first.Contains(": run ", StringComparison.Ordinal), $"unexpected first line: {first}");
        Thread.Sleep(300);
        return p;
    }

    static void Term(Process p)
    {
        using var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])!;
        kill.WaitForExit();
    }

    static (string Stdout, string[] Stderr) Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the command did not end");
        p.WaitForExit();
        return (stdout.Result, stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void OneSigtermStopsCleanlyWithinTheDefaultGraceAndASecondEndsTheProcessAtOnce()
    {
        // One SIGTERM: the batch finishes, the checkpoint is written, exit 130.
        var dir = CliRunner.TempDir();
        using (var p = StartSlowTraining(dir))
        {
            Term(p);
            var (_, stderr) = Finish(p);
            Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {string.Join('\n', stderr)}");
            Assert.Matches(@"^basin: error: training cancelled before epoch 2, batch 1; checkpoint: .*; resume with 'basin train --resume ",
                stderr[^1]);
        }
        // A second SIGTERM during the grace: the process ends at once, killed by the signal, without waiting for the batch.
        var again = CliRunner.TempDir();
        using (var p = StartSlowTraining(again))
        {
            Term(p);
            Thread.Sleep(100);
            Term(p);
            var (_, stderr) = Finish(p);
            Assert.True(p.ExitCode == ExitTerminated, $"exit {p.ExitCode}: {string.Join('\n', stderr)}");
            Assert.DoesNotContain(stderr, l => l.Contains("cancelled", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ACommandThatDoesNotStopWithinTheGraceIsEndedWithExit143AndOneLine()
    {
        var dir = CliRunner.TempDir();
        using var p = StartSlowTraining(dir, new() { ["BASIN_TERMINATION_GRACE"] = "0.2" });
        Term(p);
        var (_, stderr) = Finish(p);
        Assert.True(p.ExitCode == ExitTerminated, $"exit {p.ExitCode}: {string.Join('\n', stderr)}");
        Assert.Equal("basin: error: did not stop within 0.2 s of SIGTERM; exiting", stderr[^1]);
        Assert.DoesNotContain(stderr, l => l.Contains("training cancelled", StringComparison.Ordinal));   // it did not wait for the batch
        // The run's process is gone mid-batch: the run is listed as interrupted (its lock is stale), not as running or finished.
        var list = CliRunner.Run(dir, null, "runs", "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.True(list.Stdout.Contains("\"status\": \"interrupted\"", StringComparison.Ordinal), list.Stdout);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    public void ABadGraceIsAOneLineUsageError(string value)
    {
        var r = CliRunner.Run(CliRunner.TempDir(), new Dictionary<string, string> { ["BASIN_TERMINATION_GRACE"] = value }, "runs", "list");
        CliRunner.AssertOneLineError(r, $"BASIN_TERMINATION_GRACE must be a number of seconds between 0 and 86400, got '{value}'");
        Assert.Equal(2, r.ExitCode);
    }
}
