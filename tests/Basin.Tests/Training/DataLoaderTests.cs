using Basin.Data;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

public class DataLoaderTests
{
    static LabeledDataset Numbered(int n)
    {
        // Row i holds the value i in every feature, label i mod 3: a batch shows which rows it took.
        var x = arange(n, dtype: float32).unsqueeze(1).repeat(1, 4);
        var y = arange(n, dtype: int64) % 3;
        return new LabeledDataset("numbered", x, y, 3);
    }

    static List<long> Indices(DataLoader loader, int epoch, int skip = 0)
    {
        var all = new List<long>();
        foreach (var b in loader.Epoch(epoch, skip))
            using (b) all.AddRange(b.Indices.data<long>().ToArray());
        return all;
    }

    [Fact]
    public void EveryIndexAppearsOncePerEpoch()
    {
        using var data = Numbered(23);
        var loader = new DataLoader(data, 5, shuffle: true, seed: 42);
        Assert.Equal(5, loader.BatchesPerEpoch);
        var seen = Indices(loader, 0);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, 23).Select(i => (long)i), seen);
    }

    [Fact]
    public void OrderDependsOnlyOnSeedAndEpoch()
    {
        using var data = Numbered(50);
        var a = new DataLoader(data, 8, shuffle: true, seed: 7);
        var b = new DataLoader(data, 8, shuffle: true, seed: 7);
        var c = new DataLoader(data, 8, shuffle: true, seed: 8);
        Assert.Equal(Indices(a, 3), Indices(b, 3));
        Assert.NotEqual(Indices(a, 3), Indices(a, 4));
        Assert.NotEqual(Indices(a, 3), Indices(c, 3));
        // Skipping batches leaves the rest of the epoch as it was.
        Assert.Equal(Indices(a, 2).Skip(16), Indices(a, 2, skip: 2));
    }

    [Fact]
    public void BatchesHoldTheRowsTheirIndicesName()
    {
        using var data = Numbered(17);
        var loader = new DataLoader(data, 4, shuffle: true, seed: 1);
        int batches = 0;
        foreach (var b in loader.Epoch(0))
        {
            using (b)
            {
                batches++;
                var idx = b.Indices.data<long>().ToArray();
                Assert.Equal(ScalarType.Int64, b.Indices.dtype);
                Assert.Equal(idx.Select(i => (float)i), b.Inputs.select(1, 0).data<float>().ToArray());
                Assert.Equal(idx.Select(i => i % 3), b.Labels.data<long>().ToArray());
            }
        }
        Assert.Equal(5, batches);
    }

    [Fact]
    public void WithoutShuffleTheOrderIsTheStoredOneAndDropLastDrops()
    {
        using var data = Numbered(10);
        var loader = new DataLoader(data, 4, shuffle: false, seed: 1, dropLast: true);
        Assert.Equal(2, loader.BatchesPerEpoch);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), Indices(loader, 5));
        Assert.Equal(3, new DataLoader(data, 4, shuffle: false, seed: 1).BatchesPerEpoch);
    }

    [Fact]
    public void BatchSizeMustBePositive()
    {
        using var data = Numbered(10);
        var e = Assert.Throws<BasinException>(() => new DataLoader(data, 0, true, 1));
        Assert.Contains("batch size must be at least 1", e.Message);
        Assert.Throws<BasinException>(() => new DataLoader(data, 11, true, 1, dropLast: true));
    }
}
