namespace Basin.Data;

/// <summary>
/// The 28x28 grey-scale image classification sets (Fashion-MNIST, MNIST): finding their IDX files,
/// optionally downloading them, and loading a split as a <see cref="LabeledDataset"/> with inputs
/// float32 [N, 1, 28, 28] in [0, 1] and labels int64 in 0..9.
/// </summary>
public static class ImageDatasets
{
    private static readonly ImageDatasetInfo[] Known =
    [
        new("fashion-mnist", "FashionMNIST", "dataset-fashion-mnist", 10),
        // Debian has no MNIST package; its files are looked for in the same places.
        new("mnist", "MNIST", null, 10),
    ];

    public static IReadOnlyList<string> Names { get; } = Known.Select(k => k.Name).ToArray();

    public static ImageDatasetInfo Info(string name) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new BasinException($"unknown image data set '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>
    /// Loads one split. <paramref name="samples"/> keeps the first N examples in file order (null: all).
    /// <paramref name="dataPath"/> is an explicit folder (the CLI's --data); see <see cref="Locate"/> for
    /// the search. With <paramref name="download"/>, files not found are downloaded into
    /// <paramref name="dataPath"/> if given, else into the cache folder, and checked by SHA-256.
    /// <paramref name="cacheRoot"/> replaces the user cache root (~/.cache/basin).
    /// </summary>
    public static LabeledDataset Load(string name, Split split, string? dataPath = null, long? samples = null,
        DownloadOptions? download = null, string? cacheRoot = null)
    {
        var info = Info(name);
        var folder = download is null
            ? DataFolderSearch.Locate(info, dataPath, cacheRoot)
            : DataFolderSearch.TryLocate(info, dataPath, cacheRoot) ?? Download(info, dataPath, cacheRoot, download);
        var images = IdxFileNames.Find(folder, IdxFileNames.Images(split))!;
        var labels = IdxFileNames.Find(folder, IdxFileNames.Labels(split))!;
        return IdxReader.ReadLabeled(images, labels, $"{info.Name}-{split.ToString().ToLowerInvariant()}", info.ClassCount, samples);
    }

    /// <summary>
    /// The folder holding the four IDX files. Searched in order: <paramref name="dataPath"/> (alone, when
    /// given), BASIN_DATA, /usr/share/datasets/NAME (Debian), the cache ($XDG_CACHE_HOME/basin/NAME or
    /// ~/.cache/basin/NAME). Not found: a <see cref="BasinException"/> listing the places searched.
    /// </summary>
    public static string Locate(string name, string? dataPath = null, string? cacheRoot = null) =>
        DataFolderSearch.Locate(Info(name), dataPath, cacheRoot);

    /// <summary>The folders <see cref="Locate"/> searches, in order.</summary>
    public static IReadOnlyList<string> SearchedFolders(string name, string? dataPath = null, string? cacheRoot = null) =>
        DataFolderSearch.Candidates(Info(name), dataPath, cacheRoot);

    private static string Download(ImageDatasetInfo info, string? dataPath, string? cacheRoot, DownloadOptions download)
    {
        var target = dataPath ?? DataFolderSearch.CacheFolder(info, cacheRoot)
            ?? throw new BasinException($"{info.Name}: no folder to download into: no home folder for the cache; pass --data");
        DatasetDownloader.DownloadMissing(target, download);
        return target;
    }
}
