using Basin.Flatness;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// How a curvature operator sees the data: examples are processed <see cref="ChunkSize"/> at a time, so
/// memory is bounded in N. <see cref="Loss"/> maps (logits, labels) of a chunk to the chunk's mean loss;
/// null means mean cross-entropy.
/// </summary>
public sealed record CurvatureOptions
{
    public int ChunkSize { get; init; } = 1000;

    public Func<Tensor, Tensor, Tensor>? Loss { get; init; }

    /// <summary>
    /// When all examples fit in one chunk, keep the first-order gradient graph and reuse it for every product
    /// (PyHessian's single-batch mode): each product then costs one backward pass instead of a forward and two.
    /// </summary>
    public bool ReuseGraph { get; init; } = true;

    public static CurvatureOptions Default { get; } = new();
}
