using Basin.Tests.Data;

namespace Basin.Tests.Cli;

/// <summary>A small generated Fashion-MNIST-shaped IDX set in a temporary folder, for CLI runs.</summary>
internal static class CliDataFolder
{
    public static string Create(string workDir, int train = 96, int test = 32, bool gzip = true)
    {
        var folder = Path.Combine(workDir, "data");
        IdxFiles.WriteSet(folder, train, test, gzip);
        return folder;
    }
}
