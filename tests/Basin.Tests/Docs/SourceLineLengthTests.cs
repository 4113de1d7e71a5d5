using System.Diagnostics;
using Basin.Tests.Packaging;
using Xunit;

namespace Basin.Tests.Docs;

/// <summary>Every line of a tracked C# file under src/ is at most <see cref="MaxColumns"/> columns (characters) long.</summary>
public class SourceLineLengthTests
{
    const int MaxColumns = 140;

    [Fact]
    public void NoTrackedSourceLineIsLongerThan140Columns()
    {
        var root = Repository.Root();
        var sources = TrackedFiles(root)
            .Where(f => f.StartsWith("src/", StringComparison.Ordinal) && f.EndsWith(".cs", StringComparison.Ordinal)).ToList();
        Assert.Contains("src/Basin.Cli/Cli.cs", sources);
        var problems = sources.SelectMany(f => LongLines(f, File.ReadAllText(Path.Combine(root, f)))).ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} lines longer than {MaxColumns} columns:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void TheCheckCountsCharactersNotBytesAndNamesFileAndLine()
    {
        var ok = new string('x', 139) + "‖";                    // 140 characters, 142 bytes in UTF-8
        var tooLong = "    " + new string('y', 137);           // 141 characters
        var text = $"first\r\n{ok}\r\n{tooLong}\n{ok}\n";
        Assert.Equal(["a.cs:3: 141 columns"], LongLines("a.cs", text));
        Assert.Empty(LongLines("b.cs", ok));
    }

    static IEnumerable<string> LongLines(string file, string text) =>
        text.Split('\n').Select((line, i) => (Columns: line.TrimEnd('\r').EnumerateRunes().Count(), Number: i + 1))
            .Where(l => l.Columns > MaxColumns).Select(l => $"{file}:{l.Number}: {l.Columns} columns");

    static List<string> TrackedFiles(string root)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-C", root, "-c", "core.quotepath=off", "ls-files", "-z" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "git ls-files failed: " + p.StandardError.ReadToEnd());
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(f => File.Exists(Path.Combine(root, f))).ToList();
    }
}
