using Basin.Flatness;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The Hessian of the loss by one layer's weight, as an operator on d×m matrices, in the coordinates the
/// options ask for: V ↦ D⁻¹ H (V D⁻¹) + 2αV, with D = diag(σ) the feature scales (identity without feature
/// normalization) and α the weight decay.
/// </summary>
sealed class LayerCurvature : ICurvatureProduct, IDisposable
{
    readonly HessianVectorProduct hvp;
    readonly FlatLayer layer;
    readonly Tensor? inverseScale;   // 1/σ as a [1,m] row, or null
    readonly double weightDecay;

    public LayerCurvature(Classifier model, LabeledDataset data, FlatLayer layer, Tensor? scale, FlatnessOptions options)
    {
        this.layer = layer;
        hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, layer.Name + ".weight"), options.Curvature);
        inverseScale = scale is null ? null : scale.reciprocal().reshape(1, -1).DetachFromDisposeScope();
        weightDecay = options.WeightDecay;
    }

    public IReadOnlyList<long[]> Shapes => [[layer.Rows, layer.Columns]];
    public ScalarType DType => hvp.DType;
    public long Dimension => layer.Rows * layer.Columns;
    public long ProductCount => hvp.ProductCount;

    public Tensor[] Apply(IReadOnlyList<Tensor> v)
    {
        using var scope = torch.NewDisposeScope();
        var u = inverseScale is null ? v[0] : v[0].mul(inverseScale);
        var hu = hvp.Apply([u.reshape(layer.Weight.shape)])[0].reshape(layer.Rows, layer.Columns);
        if (inverseScale is not null) hu = hu.mul(inverseScale);
        if (weightDecay != 0) { using var decay = (2 * weightDecay).ToScalar(); hu = hu.add(v[0], decay); }
        return [hu.MoveToOuterDisposeScope()];
    }

    public void Dispose()
    {
        hvp.Dispose();
        inverseScale?.Dispose();
    }
}

/// <summary>The diagonal block H_{s,s} of a layer operator: vectors of length m placed in row s.</summary>
sealed class RowBlock(ICurvatureProduct layer, long row) : ICurvatureProduct
{
    readonly long rows = layer.Shapes[0][0], columns = layer.Shapes[0][1];
    public IReadOnlyList<long[]> Shapes => [[columns]];
    public ScalarType DType => layer.DType;
    public long Dimension => columns;
    public long ProductCount => layer.ProductCount;

    public Tensor[] Apply(IReadOnlyList<Tensor> v)
    {
        using var scope = torch.NewDisposeScope();
        var full = torch.zeros(rows, columns, DType);
        full[row] = v[0];
        return [layer.Apply([full])[0][row].clone().MoveToOuterDisposeScope()];
    }
}
