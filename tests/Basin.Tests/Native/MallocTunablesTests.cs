using System.Diagnostics;
using Basin.Native;
using Xunit;

namespace Basin.Tests.Native;

public class MallocTunablesTests
{
    static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Basin.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Basin.slnx) not found above " + AppContext.BaseDirectory);
    }

    static string SourcedValue(string? preset)
    {
        var script = Path.Combine(RepoRoot(), "scripts", "malloc-env.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($". '{script}' && printf %s \"$GLIBC_TUNABLES\"");
        psi.Environment.Remove(MallocTunables.Variable);
        if (preset is not null) psi.Environment[MallocTunables.Variable] = preset;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return output;
    }

    [Fact]
    public void TheLaunchersExportTheLibrarysValueAndKeepAUsersOwn()
    {
        Assert.Equal(MallocTunables.Value, SourcedValue(null));
        Assert.Equal("glibc.malloc.arena_max=2", SourcedValue("glibc.malloc.arena_max=2"));
        foreach (var launcher in new[] { "basin", "test.sh" })
            Assert.Contains("scripts/malloc-env.sh", File.ReadAllText(Path.Combine(RepoRoot(), launcher)));
    }

    [Fact]
    public void ChildProcessesGetTheValueUnlessTheUserSetOne()
    {
        var own = Environment.GetEnvironmentVariable(MallocTunables.Variable);
        Assert.Equal(string.IsNullOrEmpty(own) ? MallocTunables.Value : own, MallocTunables.ForChild());
        var worker = new ProcessStartInfo("true");
        Basin.Experiments.Sweeps.SweepRunner.PrepareWorkerEnvironment(worker, 3);
        Assert.Equal("3", worker.Environment["OMP_NUM_THREADS"]);
        Assert.Equal("3", worker.Environment["MKL_NUM_THREADS"]);
        Assert.Equal(MallocTunables.ForChild(), worker.Environment[MallocTunables.Variable]);
        foreach (var setting in MallocTunables.Value.Split(':'))
            Assert.Matches(@"^glibc\.malloc\.(arena_max|mmap_threshold|trim_threshold)=\d+$", setting);
    }
}
