using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Basin.Tests.Packaging;
using Xunit;

namespace Basin.Tests.Docs;

/// <summary>
/// The repository stands alone: every relative link in a tracked Markdown file reaches a file or folder of the
/// repository (and a heading, when it names one), and no file names a path outside the repository.
/// </summary>
public class DocumentationLinksTests
{
    static readonly Regex InlineLink = new(
        @"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)", RegexOptions.Compiled);
    static readonly Regex ReferenceLink = new(
        @"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", RegexOptions.Compiled | RegexOptions.Multiline);
    static readonly Regex HtmlLink = new(@"<(?:a|img)\s[^>]*(?:href|src)=""([^""]+)""", RegexOptions.Compiled | RegexOptions.IgnoreCase);
    static readonly Regex FencedBlock = new(
        @"^\s*(```|~~~).*?^\s*\1[^\n]*$", RegexOptions.Compiled | RegexOptions.Multiline | RegexOptions.Singleline);
    static readonly Regex InlineCode = new(@"`[^`\n]*`", RegexOptions.Compiled);
    static readonly Regex ParentPath = new(@"(?<![\w/.])(?:\.\./)+[\w.\-/]*", RegexOptions.Compiled);

    [Fact]
    public void EveryRelativeLinkInTrackedMarkdownReachesAFileInTheRepository()
    {
        var root = Repository.Root();
        var markdown = TrackedFiles(root).Where(f => f.EndsWith(".md", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Contains("README.md", markdown);
        Assert.Contains("docs/definitions.md", markdown);
        var problems = new List<string>();
        foreach (var file in markdown)
            problems.AddRange(LinkProblems(root, file, File.ReadAllText(Path.Combine(root, file))));
        Assert.True(problems.Count == 0, "dead or outside links:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void NoTrackedFileNamesAPathOutsideTheRepository()
    {
        var root = Repository.Root();
        var problems = new List<string>();
        // This file spells the forbidden path in its own self-test, so it is the one file not read.
        foreach (var file in TrackedFiles(root).Where(IsText).Where(f => f != "tests/Basin.Tests/Docs/DocumentationLinksTests.cs"))
        {
            var text = File.ReadAllText(Path.Combine(root, file));
            var dir = Path.GetDirectoryName(Path.Combine(root, file))!;
            foreach (var (line, number) in text.Split('\n').Select((l, i) => (l, i + 1)))
            {
                if (line.Contains("shared/docs", StringComparison.Ordinal)) problems.Add($"{file}:{number}: names shared/docs");
                if (!file.EndsWith(".md", StringComparison.OrdinalIgnoreCase)) continue;
                foreach (Match m in ParentPath.Matches(line))
                    if (!Inside(root, Path.GetFullPath(Path.Combine(dir, m.Value))))
                        problems.Add($"{file}:{number}: {m.Value} is outside the repository");
            }
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void TheCheckFindsDeadAndOutsideLinksAndAcceptsGoodOnes()
    {
        var root = Repository.Root();
        var text = """
            [ok](docs/definitions.md) [ok](docs/definitions.md#1a-closed-form-for-softmax-cross-entropy) [ok](docs)
            [web](https://example.org/x.md) [mail](mailto:a@b.c) [self](#a-heading)
            [dead](docs/nothing.md) [anchor](docs/definitions.md#no-such-heading) [out](../shared/docs/METHODS.md)
            [abs](/etc/passwd)
            [ref]: docs/missing.txt
            ```
            [in code](not/checked.md)
            ```
            # A heading
            """;
        var problems = LinkProblems(root, "README.md", text);
        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.Contains("docs/nothing.md") && p.Contains("no such file"));
        Assert.Contains(problems, p => p.Contains("#no-such-heading") && p.Contains("no heading"));
        Assert.Contains(problems, p => p.Contains("../shared/docs/METHODS.md") && p.Contains("outside"));
        Assert.Contains(problems, p => p.Contains("/etc/passwd") && p.Contains("outside"));
        Assert.Contains(problems, p => p.Contains("docs/missing.txt"));
    }

    static List<string> LinkProblems(string root, string file, string text)
    {
        var problems = new List<string>();
        var prose = InlineCode.Replace(FencedBlock.Replace(text, ""), "");
        var targets = InlineLink.Matches(prose).Select(m => m.Groups[1].Value)
            .Concat(ReferenceLink.Matches(prose).Select(m => m.Groups[1].Value))
            .Concat(HtmlLink.Matches(prose).Select(m => m.Groups[1].Value));
        var dir = Path.GetDirectoryName(Path.Combine(root, file))!;
        foreach (var target in targets)
        {
            if (Regex.IsMatch(target, @"^[a-zA-Z][a-zA-Z0-9+.\-]*:")) continue;   // https:, mailto:, …
            var hash = target.IndexOf('#');
            var pathPart = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var full = pathPart.Length == 0 ? Path.Combine(root, file) : Path.GetFullPath(Path.Combine(dir, pathPart));
            if (pathPart.StartsWith('/') || !Inside(root, full))
            {
                problems.Add($"{file}: {target} points outside the repository");
                continue;
            }
            if (!File.Exists(full) && !Directory.Exists(full)) { problems.Add($"{file}: {target}: no such file or folder"); continue; }
            if (anchor is { Length: > 0 } && full.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
            {
                var headingsOf = pathPart.Length == 0 ? text : File.ReadAllText(full);
                if (!Anchors(headingsOf).Contains(anchor)) problems.Add($"{file}: {target}: no heading #{anchor}");
            }
        }
        return problems;
    }

    /// <summary>The anchors GitHub gives a Markdown file's headings (lower case, punctuation dropped, spaces to '-').</summary>
    static HashSet<string> Anchors(string markdown)
    {
        var result = new HashSet<string>();
        var seen = new Dictionary<string, int>();
        foreach (var line in FencedBlock.Replace(markdown, "").Split('\n'))
        {
            var m = Regex.Match(line, @"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$");
            if (!m.Success) continue;
            var sb = new StringBuilder();
            foreach (var c in m.Groups[1].Value.ToLowerInvariant())
                if (char.IsLetterOrDigit(c) || c is '-' or '_') sb.Append(c);
                else if (c == ' ') sb.Append('-');
            var slug = sb.ToString();
            var n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            result.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return result;
    }

    static bool Inside(string root, string fullPath) =>
        fullPath == root || fullPath.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

    static bool IsText(string file) =>
        new[] { ".md", ".cs", ".csproj", ".props", ".targets", ".sh", ".json", ".py", ".slnx", ".txt" }
            .Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase))
        || file is "basin" or "test.sh" or ".ci/run";

    /// <summary>The files git tracks (paths relative to the root, with '/').</summary>
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
