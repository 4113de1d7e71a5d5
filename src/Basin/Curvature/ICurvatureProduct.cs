using Basin.Flatness;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// A symmetric linear operator on the space of a parameter set (the Hessian, the Gauss–Newton matrix, or a
/// view of one): the one primitive every spectrum tool is built on.
/// </summary>
public interface ICurvatureProduct
{
    /// <summary>Shapes of the tensors a vector consists of.</summary>
    IReadOnlyList<long[]> Shapes { get; }

    ScalarType DType { get; }

    /// <summary>Dimension of the space (total number of entries).</summary>
    long Dimension { get; }

    /// <summary>Number of products computed so far.</summary>
    long ProductCount { get; }

    /// <summary>The product with <paramref name="v"/>; new tensors in the caller's dispose scope.</summary>
    Tensor[] Apply(IReadOnlyList<Tensor> v);
}
