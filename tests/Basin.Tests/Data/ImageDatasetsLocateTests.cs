using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

[Collection(ProcessEnvironmentCollection.Name)]
public class ImageDatasetsLocateTests
{
    private const string Debian = "/usr/share/datasets";

    [Fact]
    public void NamesAreTheTwoImageSets()
    {
        Assert.Equal(new[] { "fashion-mnist", "mnist" }, ImageDatasets.Names);
        var e = Assert.Throws<BasinException>(() => ImageDatasets.Locate("cifar"));
        Assert.Equal("unknown image data set 'cifar'; known: fashion-mnist, mnist", e.Message);
    }

    [Fact]
    public void SearchOrderIsEnvironmentThenDebianThenCache()
    {
        using var env = new EnvironmentScope().Set("BASIN_DATA", "/data/shared").Set("XDG_CACHE_HOME", "/xdg");
        Assert.Equal(
            new[] { "/data/shared", "/data/shared/fashion-mnist", "/data/shared/FashionMNIST/raw", $"{Debian}/fashion-mnist", "/xdg/basin/fashion-mnist" },
            ImageDatasets.SearchedFolders("fashion-mnist"));
        Assert.Equal(
            new[] { $"{Debian}/mnist", "/my/cache/mnist" },
            SearchedWithout("BASIN_DATA", () => ImageDatasets.SearchedFolders("mnist", cacheRoot: "/my/cache")));
        // An explicit folder is the only place searched.
        Assert.Equal(new[] { "/x", "/x/mnist", "/x/MNIST/raw" }, ImageDatasets.SearchedFolders("mnist", dataPath: "/x"));
    }

    [Fact]
    public void CacheFallsBackToHomeWhenXdgCacheHomeIsUnsetOrRelative()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        using var env = new EnvironmentScope().Set("BASIN_DATA", null).Set("XDG_CACHE_HOME", "relative/cache");
        Assert.Equal($"{home}/.cache/basin/mnist", ImageDatasets.SearchedFolders("mnist")[^1]);
        env.Set("XDG_CACHE_HOME", null);
        Assert.Equal($"{home}/.cache/basin/mnist", ImageDatasets.SearchedFolders("mnist")[^1]);
    }

    [Fact]
    public void ExplicitFolderBeatsBasinData()
    {
        using var explicitDir = new TempFolder();
        using var envDir = new TempFolder();
        IdxFiles.WriteSet(explicitDir.Path, 4, 3, gzip: true, labelOffset: 1);
        IdxFiles.WriteSet(envDir.Path, 4, 3, gzip: false, labelOffset: 2);
        using var env = new EnvironmentScope().Set("BASIN_DATA", envDir.Path);

        Assert.Equal(explicitDir.Path, ImageDatasets.Locate("mnist", explicitDir.Path));
        using var data = ImageDatasets.Load("mnist", Split.Test, dataPath: explicitDir.Path);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => (long)IdxFiles.Label(i, 1)), data.Labels.data<long>().ToArray());
        Assert.Equal("mnist-test", data.Name);

        Assert.Equal(envDir.Path, ImageDatasets.Locate("mnist"));
        using var fromEnv = ImageDatasets.Load("mnist", Split.Train, samples: 2);
        Assert.Equal(new long[] { IdxFiles.Label(0, 2), IdxFiles.Label(1, 2) }, fromEnv.Labels.data<long>().ToArray());
    }

    [Fact]
    public void ExplicitFolderWithoutFilesIsAnErrorEvenWhenBasinDataHasThem()
    {
        using var empty = new TempFolder();
        using var envDir = new TempFolder();
        IdxFiles.WriteSet(envDir.Path, 2, 2, gzip: false);
        using var env = new EnvironmentScope().Set("BASIN_DATA", envDir.Path);

        var e = Assert.Throws<BasinException>(() => ImageDatasets.Load("fashion-mnist", Split.Train, dataPath: empty.Path));
        Assert.StartsWith($"fashion-mnist: IDX files not found; searched {empty.Path}, {empty.Path}/fashion-mnist, {empty.Path}/FashionMNIST/raw. ", e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("--data", e.Message);
        Assert.Contains("BASIN_DATA", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FolderWithSomeFilesIsNamedWithWhatItLacks()
    {
        using var dir = new TempFolder();
        IdxFiles.WriteSet(dir.Path, 2, 2, gzip: true);
        File.Delete(dir.File("t10k-labels-idx1-ubyte.gz"));
        var e = Assert.Throws<BasinException>(() => ImageDatasets.Locate("mnist", dir.Path));
        Assert.Contains($"; {dir.Path} lacks t10k-labels-idx1-ubyte[.gz].", e.Message);
        Assert.DoesNotContain("apt-get", e.Message); // Debian has no MNIST package
    }

    [Fact]
    public void BasinDataMayHoldTheSetInASubfolderOrTorchvisionLayout()
    {
        using var root = new TempFolder();
        IdxFiles.WriteSet(root.Sub("fashion-mnist"), 2, 2, gzip: true);
        IdxFiles.WriteSet(root.Sub("MNIST", "raw"), 2, 2, gzip: false);
        using var env = new EnvironmentScope().Set("BASIN_DATA", root.Path);
        Assert.Equal(root.Sub("fashion-mnist"), ImageDatasets.Locate("fashion-mnist"));
        Assert.Equal(root.Sub("MNIST", "raw"), ImageDatasets.Locate("mnist"));
    }

    [Fact]
    public void BasinDataBeatsTheCacheAndTheCacheIsUsedLast()
    {
        using var envDir = new TempFolder();
        using var cache = new TempFolder();
        IdxFiles.WriteSet(envDir.Path, 2, 2, gzip: false);
        IdxFiles.WriteSet(cache.Sub("basin", "mnist"), 2, 2, gzip: false);
        Assert.False(Directory.Exists($"{Debian}/mnist"), "this test expects no MNIST in the Debian folder");
        using var env = new EnvironmentScope().Set("BASIN_DATA", envDir.Path).Set("XDG_CACHE_HOME", cache.Path);

        Assert.Equal(envDir.Path, ImageDatasets.Locate("mnist"));
        env.Set("BASIN_DATA", null);
        Assert.Equal(cache.Sub("basin", "mnist"), ImageDatasets.Locate("mnist"));
        // A BASIN_DATA without the files falls through to the next place.
        using var empty = new TempFolder();
        env.Set("BASIN_DATA", empty.Path);
        Assert.Equal(cache.Sub("basin", "mnist"), ImageDatasets.Locate("mnist"));
    }

    [Fact]
    public void DebianFolderBeatsTheCache()
    {
        using var cache = new TempFolder();
        IdxFiles.WriteSet(cache.Sub("fashion-mnist"), 2, 2, gzip: false);
        var debian = $"{Debian}/fashion-mnist";
        Assert.True(Directory.Exists(debian), $"{debian} is missing: install dataset-fashion-mnist (the project's test.sh installs it)");
        using var env = new EnvironmentScope().Set("BASIN_DATA", null);
        Assert.Equal(debian, ImageDatasets.Locate("fashion-mnist", cacheRoot: cache.Path));
    }

    private static T SearchedWithout<T>(string variable, Func<T> search)
    {
        using var env = new EnvironmentScope().Set(variable, null);
        return search();
    }
}
