using System.Diagnostics;

namespace Basin.Bench;

/// <summary>The PyTorch side of a benchmark: a script in bench/ run by Debian's python3 (python3-torch), where installed.</summary>
static class PyTorchScript
{
    /// <summary>True when /usr/bin/python3 exists (whether torch is installed shows when the script runs).</summary>
    public static bool Available => File.Exists("/usr/bin/python3");

    /// <summary>How to run bench/<paramref name="script"/> with <paramref name="args"/>, output redirected.</summary>
    public static ProcessStartInfo Start(string script, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "bench", script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Debian's reference BLAS is slow; the OpenMP OpenBLAS build is what PyTorch users run.
        if (File.ReadAllText("/proc/cpuinfo").Contains("avx512f")) psi.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        return psi;
    }

    static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "Basin.slnx"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }
}
