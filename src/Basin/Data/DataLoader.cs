using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Cuts a data set into mini-batches. The order of epoch e depends only on (seed, e), through a
/// Fisher–Yates shuffle driven by SplitMix64 written here, so it never changes with the libtorch
/// version and a resumed run sees exactly the batches an uninterrupted one would.
/// </summary>
public sealed class DataLoader
{
    readonly LabeledDataset _data;

    public DataLoader(LabeledDataset data, int batchSize, bool shuffle, long seed, bool dropLast = false)
    {
        if (batchSize < 1) throw new BasinException($"batch size must be at least 1, got {batchSize}");
        _data = data;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        long batches = dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        if (batches == 0) throw new BasinException($"{data.Name}: batch size {batchSize} is larger than the {data.Count} examples and " +
            "the last partial batch is dropped, so an epoch would be empty");
        BatchesPerEpoch = checked((int)batches);
    }

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public long Seed { get; }
    public bool DropLast { get; }
    public int BatchesPerEpoch { get; }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the data set (positions in it).</summary>
    public long[] Order(int epoch)
    {
        long n = _data.Count;
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        if (!Shuffle) return order;
        ulong state = SplitMix64.Mix((ulong)Seed ^ SplitMix64.Mix(0x5EED_0000_0000_0000UL + (ulong)epoch));
        for (long i = n - 1; i > 0; i--)
        {
            long j = (long)SplitMix64.Below(ref state, (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> (0-based), leaving out the first <paramref name="skipBatches"/>.
    /// Each batch's tensors belong to no dispose scope: the caller disposes the <see cref="Batch"/>.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int skipBatches = 0)
    {
        if (epoch < 0) throw new BasinException($"epoch must be ≥ 0, got {epoch}");
        if (skipBatches < 0 || skipBatches > BatchesPerEpoch) throw new BasinException($"cannot skip {skipBatches} of " +
            $"{BatchesPerEpoch} batches");
        return Batches(Order(epoch), skipBatches);
    }

    IEnumerable<Batch> Batches(long[] order, int skipBatches)
    {
        for (int b = skipBatches; b < BatchesPerEpoch; b++)
            yield return MakeBatch(order, b);
    }

    // Built outside the iterator so that no dispose scope stays open while the caller holds a batch.
    Batch MakeBatch(long[] order, int b)
    {
        int start = b * BatchSize;
        int size = (int)Math.Min(BatchSize, order.Length - start);
        using var scope = NewDisposeScope();
        var indices = tensor(order.AsSpan(start, size).ToArray());
        var inputs = _data.Inputs.index_select(0, indices);
        var labels = _data.Labels.index_select(0, indices);
        return new Batch(inputs.DetachFromDisposeScope(), labels.DetachFromDisposeScope(), indices.DetachFromDisposeScope());
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood: "Fast Splittable Pseudorandom Number Generators"): tiny, fixed forever.</summary>
internal static class SplitMix64
{
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Next(ref ulong state) => Mix(state += 0x9E3779B97F4A7C15UL);

    /// <summary>A uniform integer in [0, bound), by rejection so that no value is favoured.</summary>
    public static ulong Below(ref ulong state, ulong bound)
    {
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong x;
        do x = Next(ref state); while (x >= limit);
        return x % bound;
    }
}
