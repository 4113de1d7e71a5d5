using System.Diagnostics;

namespace Basin.Tests.Cli;

/// <summary>Runs the real `basin` CLI (Basin.Cli.dll next to the tests) as a subprocess.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static Result Run(string workDir, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        RunWithTimeout(workDir, env, TimeSpan.FromMinutes(5), args);

    public static Result RunWithTimeout(string workDir, IReadOnlyDictionary<string, string>? env, TimeSpan timeout, params string[] args)
    {
        using var p = Start(workDir, env, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"basin {string.Join(' ', args)} did not finish in {timeout}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static Process Start(string workDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Basin.Cli.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["BASIN_RUNS"] = Path.Combine(workDir, "runs");
        psi.Environment["OMP_NUM_THREADS"] = "1";
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>
    /// Interrupts a started command as Ctrl+C does: SIGINT. A process started as a background job of a shell without
    /// job control inherits SIGINT as ignored (POSIX), and so does every command it starts, which then cannot see
    /// Ctrl+C at all; there SIGTERM, which the CLI handles the same way (cancel, checkpoint, exit 130), is sent instead.
    /// </summary>
    public static void Interrupt(Process p)
    {
        var signal = SigIntIgnored() ? "-TERM" : "-INT";
        using var kill = Process.Start("kill", [signal, p.Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status); its children inherit that.</summary>
    static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }

    /// <summary>A fresh temporary folder for one test's working directory.</summary>
    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "basin-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Asserts a failure with exactly one non-empty stderr line that contains <paramref name="cause"/>.</summary>
    public static void AssertOneLineError(Result r, string cause)
    {
        Xunit.Assert.True(r.ExitCode != 0 && r.ExitCode != 134, r.ToString());
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Xunit.Assert.True(lines.Length == 1, "expected one error line\n" + r);
        Xunit.Assert.True(lines[0].Contains(cause, StringComparison.OrdinalIgnoreCase), $"expected the cause '{cause}' in the error\n" + r);
        Xunit.Assert.StartsWith("basin: error:", lines[0]);
    }
}
