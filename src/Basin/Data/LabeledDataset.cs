using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// An in-memory labelled data set: <see cref="Inputs"/> is float32 with examples on the
/// first axis ([N, C, H, W] for images, [N, D] for vectors), <see cref="Labels"/> is int64 [N].
/// The dataset owns its tensors.
/// </summary>
public sealed class LabeledDataset : IDisposable
{
    public LabeledDataset(string name, Tensor inputs, Tensor labels, int classCount)
    {
        if (inputs.shape.Length < 2) throw new BasinException($"{name}: inputs must have an example axis and at least one feature axis, " +
            $"got shape [{string.Join(",", inputs.shape)}]");
        if (labels.shape.Length != 1) throw new BasinException($"{name}: labels must be one-dimensional, got shape " +
            $"[{string.Join(",", labels.shape)}]");
        if (inputs.shape[0] != labels.shape[0]) throw new BasinException($"{name}: {inputs.shape[0]} inputs but {labels.shape[0]} labels");
        if (classCount < 1) throw new BasinException($"{name}: class count must be positive, got {classCount}");
        Name = name;
        Inputs = inputs.dtype == ScalarType.Float32 ? inputs : inputs.to_type(ScalarType.Float32);
        Labels = labels.dtype == ScalarType.Int64 ? labels : labels.to_type(ScalarType.Int64);
        ClassCount = classCount;
    }

    public string Name { get; }
    public Tensor Inputs { get; }
    public Tensor Labels { get; }
    public int ClassCount { get; }
    public long Count => Labels.shape[0];

    /// <summary>Shape of one example (the input shape without the example axis).</summary>
    public long[] ExampleShape => Inputs.shape[1..];

    /// <summary>The first <paramref name="n"/> examples in their stored order (a copy).</summary>
    public LabeledDataset Take(long n)
    {
        if (n < 1) throw new BasinException($"{Name}: sample count must be at least 1, got {n}");
        if (n > Count) throw new BasinException($"{Name}: asked for {n} examples but the data set has {Count}");
        return new LabeledDataset(Name, Inputs.narrow(0, 0, n).clone(), Labels.narrow(0, 0, n).clone(), ClassCount);
    }

    /// <summary>
    /// The data set cut into consecutive chunks of at most <paramref name="size"/> examples, in order: the loop every
    /// computation over a whole data set uses, so that memory stays bounded in N.
    /// </summary>
    public IReadOnlyList<DataChunk> Chunks(long size) =>
        Chunking.Ranges(Count, size).Select(r => new DataChunk(this, r.Start, r.Count)).ToArray();

    /// <summary>The examples at <paramref name="indices"/> (int64), in that order (a copy).</summary>
    public LabeledDataset Select(Tensor indices) =>
        new(Name, Inputs.index_select(0, indices), Labels.index_select(0, indices), ClassCount);

    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
