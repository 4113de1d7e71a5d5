using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Examples [<see cref="Start"/>, <see cref="Start"/> + <see cref="Count"/>) of a data set. The tensors are made on
/// demand, in the caller's dispose scope, so that a loop's per-chunk scope frees them.
/// </summary>
public readonly record struct DataChunk(LabeledDataset Data, long Start, long Count)
{
    /// <summary>This chunk's share n_chunk/N of the data set: Σ_chunks weight·(chunk mean) is the data mean.</summary>
    public double Weight => (double)Count / Data.Count;

    /// <summary>The chunk's inputs (a view of the data set's float32 inputs).</summary>
    public Tensor Inputs() => Data.Inputs.narrow(0, Start, Count);

    /// <summary>The chunk's inputs converted to <paramref name="dtype"/> (for a model held in that dtype).</summary>
    public Tensor Inputs(ScalarType dtype) => Data.Inputs.narrow(0, Start, Count).to_type(dtype);

    /// <summary>The chunk's int64 labels (a view).</summary>
    public Tensor Labels() => Data.Labels.narrow(0, Start, Count);
}

/// <summary>Consecutive ranges of at most a given size over N items: the one chunked loop over examples.</summary>
public static class Chunking
{
    /// <summary>(start, count) of each chunk of at most <paramref name="size"/> of <paramref name="total"/> items, in order.</summary>
    public static IReadOnlyList<(long Start, long Count)> Ranges(long total, long size)
    {
        if (size < 1) throw new BasinException($"chunk size must be at least 1, got {size}");
        if (total < 0) throw new BasinException($"cannot cut {total} items into chunks");
        var ranges = new (long, long)[(total + size - 1) / size];
        for (int c = 0; c < ranges.Length; c++)
        {
            long start = c * size;
            ranges[c] = (start, Math.Min(size, total - start));
        }
        return ranges;
    }
}
