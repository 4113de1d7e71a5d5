namespace Basin.Data;

/// <summary>
/// The standard MNIST-family file names (without ".gz"); a folder may hold each one
/// uncompressed or gzip-compressed.
/// </summary>
public static class IdxFileNames
{
    public static string Images(Split split) => split == Split.Train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
    public static string Labels(Split split) => split == Split.Train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";

    public static IReadOnlyList<string> All { get; } =
        [Images(Split.Train), Labels(Split.Train), Images(Split.Test), Labels(Split.Test)];

    /// <summary>The file for <paramref name="baseName"/> in <paramref name="folder"/>: uncompressed first, then ".gz"; null if neither
    /// exists.</summary>
    public static string? Find(string folder, string baseName)
    {
        var raw = Path.Combine(folder, baseName);
        if (File.Exists(raw)) return raw;
        var gz = raw + ".gz";
        return File.Exists(gz) ? gz : null;
    }
}
