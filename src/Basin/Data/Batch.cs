using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// One mini-batch: inputs, integer labels and the dataset index of every example.
/// Indices let per-example state (e.g. SAF's logit memory bank) follow an example
/// across shuffles and subsets.
/// </summary>
public sealed record Batch(Tensor Inputs, Tensor Labels, Tensor Indices) : IDisposable
{
    public long Size => Labels.shape[0];

    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
        Indices.Dispose();
    }
}
