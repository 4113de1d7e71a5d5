namespace Basin.Data;

/// <summary>
/// Where an image data set's IDX files are looked for, in order:
/// <list type="number">
/// <item>the explicit folder (the CLI's --data); when given, nothing else is searched, so a wrong
/// --data is reported rather than silently replaced by another copy;</item>
/// <item>the folder in the BASIN_DATA environment variable;</item>
/// <item>the Debian package's folder (/usr/share/datasets/NAME, from dataset-fashion-mnist);</item>
/// <item>the user cache: $XDG_CACHE_HOME/basin/NAME, else ~/.cache/basin/NAME.</item>
/// </list>
/// For the explicit folder and BASIN_DATA the folder itself, its subfolder NAME and torchvision's
/// layout (e.g. FashionMNIST/raw) are accepted. A folder counts only if it holds all four files.
/// </summary>
internal static class DataFolderSearch
{
    public const string EnvironmentVariable = "BASIN_DATA";
    public const string DebianRoot = "/usr/share/datasets";

    /// <summary>The folders searched, in order, and whether the explicit folder ends the search.</summary>
    public static IReadOnlyList<string> Candidates(ImageDatasetInfo info, string? dataPath, string? cacheRoot)
    {
        if (dataPath is not null) return RootForms(info, dataPath);
        var folders = new List<string>();
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) folders.AddRange(RootForms(info, env));
        folders.Add(Path.Combine(DebianRoot, info.Name));
        if (CacheFolder(info, cacheRoot) is { } cache) folders.Add(cache);
        return folders;
    }

    /// <summary>The first candidate holding all four files, or null.</summary>
    public static string? TryLocate(ImageDatasetInfo info, string? dataPath, string? cacheRoot) =>
        Candidates(info, dataPath, cacheRoot).FirstOrDefault(HoldsAll);

    public static string Locate(ImageDatasetInfo info, string? dataPath, string? cacheRoot)
    {
        var candidates = Candidates(info, dataPath, cacheRoot);
        if (candidates.FirstOrDefault(HoldsAll) is { } found) return found;

        var partial = candidates
            .Select(folder => (folder, missing: IdxFileNames.All.Where(f => IdxFileNames.Find(folder, f) is null).ToList()))
            .Where(c => c.missing.Count < IdxFileNames.All.Count)
            .Select(c => $"; {c.folder} lacks {string.Join(", ", c.missing.Select(m => m + "[.gz]"))}");
        var install = info.DebianPackage is { } package ? $"install them with `apt-get install {package}`, or " : "";
        throw new BasinException(
            $"{info.Name}: IDX files not found; searched {string.Join(", ", candidates)}{string.Concat(partial)}. " +
            $"To fix: {install}put the four files ({string.Join(", ", IdxFileNames.All)}, optionally .gz) in a folder " +
            $"and pass it with --data or the {EnvironmentVariable} environment variable");
    }

    /// <summary>NAME under the cache root: <paramref name="cacheRoot"/>, else $XDG_CACHE_HOME/basin, else ~/.cache/basin; null if there is
    /// no home.</summary>
    public static string? CacheFolder(ImageDatasetInfo info, string? cacheRoot)
    {
        if (cacheRoot is not null) return Path.Combine(cacheRoot, info.Name);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        // The XDG spec says relative values are to be ignored.
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "basin", info.Name);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "basin", info.Name);
    }

    public static bool HoldsAll(string folder) => IdxFileNames.All.All(f => IdxFileNames.Find(folder, f) is not null);

    private static IReadOnlyList<string> RootForms(ImageDatasetInfo info, string root) =>
        [root, Path.Combine(root, info.Name), Path.Combine(root, info.TorchvisionFolder, "raw")];
}
