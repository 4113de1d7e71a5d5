namespace Basin.Tests.Packaging;

/// <summary>The repository these tests were built from: its root folder and its README's C# example.</summary>
public static class Repository
{
    /// <summary>The folder that holds Basin.slnx, found above the test binaries.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Basin.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Basin.slnx) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The first ```csharp block under the README's heading "## From C#", without its fences.</summary>
    public static string ReadmeCSharpExample()
    {
        var lines = File.ReadAllLines(Path.Combine(Root(), "README.md"));
        int heading = Array.FindIndex(lines, l => l.Trim() == "## From C#");
        if (heading < 0) throw new InvalidOperationException("README.md has no section '## From C#'");
        int open = Array.FindIndex(lines, heading, l => l.Trim() == "```csharp");
        int close = open < 0 ? -1 : Array.FindIndex(lines, open + 1, l => l.Trim() == "```");
        if (close < 0) throw new InvalidOperationException("README.md's section 'From C#' has no ```csharp block");
        return string.Join('\n', lines[(open + 1)..close]) + "\n";
    }
}
