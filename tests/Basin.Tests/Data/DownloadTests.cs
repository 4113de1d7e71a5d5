using System.Security.Cryptography;
using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

[Collection(ProcessEnvironmentCollection.Name)]
public class DownloadTests
{
    private static Dictionary<string, string> Hashes(IReadOnlyDictionary<string, byte[]> files) =>
        files.ToDictionary(kv => kv.Key, kv => Convert.ToHexStringLower(SHA256.HashData(kv.Value)));

    [Fact]
    public void GoodHashesDownloadIntoTheExplicitFolderAndLoad()
    {
        var files = IdxFiles.StandardSet(5, 4, gzip: true, labelOffset: 3);
        using var server = new LoopbackHttpServer(files);
        using var dir = new TempFolder();
        var progress = new List<DownloadProgress>();
        var options = new DownloadOptions(server.BaseUrl, Hashes(files)) { Progress = new SyncProgress(progress.Add) };

        using var data = ImageDatasets.Load("mnist", Split.Test, dataPath: dir.Path, download: options);

        Assert.Equal(new long[] { 4, 1, 28, 28 }, data.Inputs.shape);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (long)IdxFiles.Label(i, 3)), data.Labels.data<long>().ToArray());
        Assert.Equal(IdxFiles.Pixel(2, 5) / 255f, data.Inputs[2, 0, 0, 5].item<float>());
        Assert.Equal(files.Keys.Order(), Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(dir.File(name)));
        Assert.Equal(4, server.Requests);
        Assert.Equal(files.Values.Sum(b => (long)b.Length), progress.GroupBy(p => p.File).Sum(g => g.Max(p => p.Bytes)));

        // Present files are not fetched again.
        using var again = ImageDatasets.Load("mnist", Split.Train, dataPath: dir.Path, download: options);
        Assert.Equal(4, server.Requests);
        Assert.Equal(5, again.Count);
    }

    [Fact]
    public void BadHashIsAnErrorAndLeavesNoFile()
    {
        var files = IdxFiles.StandardSet(3, 3, gzip: true);
        using var server = new LoopbackHttpServer(files);
        using var dir = new TempFolder();
        var hashes = Hashes(files);
        const string bad = "t10k-images-idx3-ubyte.gz";
        hashes[bad] = new string('0', 64);

        var e = Assert.Throws<BasinException>(() =>
            ImageDatasets.Load("mnist", Split.Test, dataPath: dir.Path, download: new DownloadOptions(server.BaseUrl, hashes)));

        Assert.Equal($"{server.BaseUrl}{bad}: SHA-256 mismatch: expected {hashes[bad]}, got {Hashes(files)[bad]}; the download was discarded", e.Message);
        Assert.False(File.Exists(dir.File(bad)));
        // The files before it were verified and kept; nothing half-written (no temporary file) remains.
        Assert.Equal(new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" }, Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void DownloadGoesIntoTheCacheWhenNoFolderIsGiven()
    {
        var files = IdxFiles.StandardSet(2, 3, gzip: true);
        using var server = new LoopbackHttpServer(files);
        using var cache = new TempFolder();
        using var env = new EnvironmentScope().Set("BASIN_DATA", null);
        Assert.False(Directory.Exists("/usr/share/datasets/mnist"), "this test expects no MNIST in the Debian folder");

        using var data = ImageDatasets.Load("mnist", Split.Test, download: new DownloadOptions(server.BaseUrl, Hashes(files)), cacheRoot: cache.Path);
        Assert.Equal(3, data.Count);
        Assert.Equal(cache.Sub("mnist"), ImageDatasets.Locate("mnist", cacheRoot: cache.Path));
    }

    [Fact]
    public void MissingFileOnTheServerAndMissingHashAreErrors()
    {
        var files = IdxFiles.StandardSet(2, 2, gzip: true);
        var hashes = Hashes(files);
        files.Remove("train-labels-idx1-ubyte.gz");
        using var server = new LoopbackHttpServer(files);
        using var dir = new TempFolder();

        var e = Assert.Throws<BasinException>(() => ImageDatasets.Load("mnist", Split.Train, dataPath: dir.Path, download: new DownloadOptions(server.BaseUrl, hashes)));
        Assert.Equal($"{server.BaseUrl}train-labels-idx1-ubyte.gz: download failed: HTTP 404 Not Found", e.Message);

        using var empty = new TempFolder();
        var requests = server.Requests;
        hashes.Remove("t10k-images-idx3-ubyte.gz");
        e = Assert.Throws<BasinException>(() => ImageDatasets.Load("mnist", Split.Train, dataPath: empty.Path, download: new DownloadOptions(server.BaseUrl, hashes)));
        Assert.Equal("download: no SHA-256 given for t10k-images-idx3-ubyte.gz (or t10k-images-idx3-ubyte)", e.Message);
        hashes["t10k-images-idx3-ubyte.gz"] = "abc";
        e = Assert.Throws<BasinException>(() => ImageDatasets.Load("mnist", Split.Train, dataPath: empty.Path, download: new DownloadOptions(server.BaseUrl, hashes)));
        Assert.Equal("download: SHA-256 for t10k-images-idx3-ubyte.gz must be 64 hex digits, got 'abc'", e.Message);
        // Hashes are checked before anything is fetched.
        Assert.Equal(requests, server.Requests);
        Assert.Empty(Directory.GetFileSystemEntries(empty.Path));

        e = Assert.Throws<BasinException>(() => ImageDatasets.Load("mnist", Split.Train, dataPath: dir.Path, download: new DownloadOptions("ftp://x/", hashes)));
        Assert.Contains("is not an absolute http or https URL", e.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this reports on the caller's thread.</summary>
    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
