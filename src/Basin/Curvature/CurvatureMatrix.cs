using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>The full matrix of a curvature operator, column by column from products with unit vectors.</summary>
public static class CurvatureMatrix
{
    /// <summary>Largest dimension <see cref="Full"/> accepts (a 20000² float64 matrix is 3.2 GB).</summary>
    public const long MaxDimension = 20_000;

    /// <summary>The n×n matrix (float64; column i = op(e_i)), for small parameter sets.</summary>
    public static Tensor Full(ICurvatureProduct op, CancellationToken cancellationToken = default)
    {
        long n = op.Dimension;
        if (n > MaxDimension)
            throw new BasinException($"the full matrix of {n} parameters is too large (at most {MaxDimension}); choose a smaller " +
                "parameter set or use products");
        var result = torch.empty(n, n, ScalarType.Float64);
        for (long i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var column = ParamVectors.Flatten(op.Apply(ParamVectors.Unit(op.Shapes, op.DType, i)));
            result[TensorIndex.Colon, TensorIndex.Single(i)] = column.to_type(ScalarType.Float64);
        }
        return result;
    }
}
