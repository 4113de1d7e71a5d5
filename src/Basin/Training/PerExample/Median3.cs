using static TorchSharp.torch;

namespace Basin.Training.PerExample;

internal static class Median3
{
    /// <summary>The elementwise median of three tensors: max(min(a, b), min(max(a, b), c)) — exact, no sorting.</summary>
    public static Tensor Of(Tensor a, Tensor b, Tensor c) => minimum(a, b).maximum(maximum(a, b).minimum(c));
}
