using Basin.Data;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Data;

public sealed class DataChunkTests
{
    [Fact]
    public void Chunks_cover_the_data_in_order_with_a_short_last_chunk_and_weights_that_sum_to_one()
    {
        using var data = new LabeledDataset("d", arange(10, ScalarType.Float32).reshape(10, 1), arange(10, ScalarType.Int64), 10);
        var chunks = data.Chunks(4);
        Assert.Equal([(0L, 4L), (4L, 4L), (8L, 2L)], chunks.Select(c => (c.Start, c.Count)));
        Assert.Equal([0.4, 0.4, 0.2], chunks.Select(c => c.Weight));
        using var x = chunks[2].Inputs(ScalarType.Float64);
        using var y = chunks[2].Labels();
        Assert.Equal(ScalarType.Float64, x.dtype);
        Assert.Equal([8.0, 9.0], x.flatten().data<double>().ToArray());
        Assert.Equal([8L, 9L], y.data<long>().ToArray());
        Assert.Single(data.Chunks(10));
        Assert.Single(data.Chunks(1000));
    }

    [Fact]
    public void Ranges_reject_an_empty_chunk_size_and_allow_no_items()
    {
        Assert.Equal("chunk size must be at least 1, got 0", Assert.Throws<BasinException>(() => Chunking.Ranges(5, 0)).Message);
        Assert.Empty(Chunking.Ranges(0, 3));
        Assert.Equal([(0L, 3L), (3L, 2L)], Chunking.Ranges(5, 3));
    }
}
