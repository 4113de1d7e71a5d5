using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

/// <summary>The real Fashion-MNIST test split from Debian's dataset-fashion-mnist (test.sh installs it).</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public class FashionMnistFilesTests
{
    [Fact]
    public void DebianTestSplitLoads()
    {
        const string folder = "/usr/share/datasets/fashion-mnist";
        Assert.True(IdxFileNames.All.All(f => IdxFileNames.Find(folder, f) is not null),
            $"Fashion-MNIST files missing in {folder}: install them with `apt-get install dataset-fashion-mnist` (the project's test.sh does)");

        using var test = ImageDatasets.Load("fashion-mnist", Split.Test, dataPath: folder);

        Assert.Equal(10000, test.Count);
        Assert.Equal(new long[] { 10000, 1, 28, 28 }, test.Inputs.shape);
        Assert.Equal(Enumerable.Repeat(1000L, 10), test.Labels.bincount(null).data<long>().ToArray());
        Assert.Equal(new long[] { 9, 2, 1, 1, 6 }, test.Labels[..5].data<long>().ToArray()); // ankle boot, pullover, trouser, ...
        // Pixel sums of the raw bytes (first image and all), as Python's gzip module reads them.
        using var bytes = test.Inputs.mul(255).round();
        Assert.Equal(33456, bytes[0].sum().item<float>());
        Assert.Equal(573469082L, bytes.to_type(TorchSharp.torch.ScalarType.Int64).sum().item<long>());
    }
}
