using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>A data set with corrupted labels and the indices (ascending) of the examples whose label was changed.</summary>
public sealed record LabelNoiseResult(LabeledDataset Dataset, IReadOnlyList<long> CorruptedIndices) : IDisposable
{
    /// <summary>Bool [N]: true where the label was corrupted.</summary>
    public Tensor CorruptedMask()
    {
        var mask = new bool[Dataset.Count];
        foreach (var i in CorruptedIndices) mask[i] = true;
        return tensor(mask, new[] { Dataset.Count });
    }

    public void Dispose() => Dataset.Dispose();
}
