using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// Norm-based measures over the weight matrices W_1..W_L (biases left out; a conv kernel read as out × in·kh·kw),
/// as in Jiang et al. (2020). Products of norms over many layers overflow, so products are reported as logarithms:
/// log Π‖W_l‖² = Σ log ‖W_l‖², and the "sum" forms as log(L·(Π‖W_l‖²)^{1/L}), the quantity Jiang et al. use.
/// </summary>
public static class Norms
{
    /// <summary>‖W‖_F² of every weight matrix, in layer order.</summary>
    public static double[] SquaredFrobenius(nn.Module model) =>
        ModelParts.WeightMatrices(model).Select(w => SquaredFrobenius(w.Weight)).ToArray();

    /// <summary>‖W‖₂² (largest singular value squared) of every weight matrix, in layer order.</summary>
    public static double[] SquaredSpectral(nn.Module model) =>
        ModelParts.WeightMatrices(model).Select(w => SquaredSpectral(w.Weight)).ToArray();

    public static double SquaredFrobenius(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        return weight.detach().to_type(ScalarType.Float64).pow(Scalars.Two).sum().ToDouble();
    }

    public static double SquaredSpectral(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var s = torch.linalg.svdvals(ModelParts.AsMatrix(weight.detach().to_type(ScalarType.Float64)));
        double top = s.max().ToDouble();
        return top * top;
    }

    /// <summary>Σ_l log x_l.</summary>
    public static double LogProduct(IReadOnlyList<double> squaredNorms) => squaredNorms.Sum(Math.Log);

    /// <summary>log(L·(Π_l x_l)^{1/L}).</summary>
    public static double LogSum(IReadOnlyList<double> squaredNorms) => Math.Log(squaredNorms.Count)
        + LogProduct(squaredNorms) / squaredNorms.Count;

    /// <summary>Σ_l ‖W_l − W_l⁰‖² with the Frobenius (or spectral) norm.</summary>
    public static double DistanceFromInit(MeasureContext c, bool spectral)
    {
        double sum = 0;
        foreach (var (name, w) in ModelParts.WeightMatrices(c.Model))
        {
            using var scope = torch.NewDisposeScope();
            var d = w.detach().sub(ModelParts.InitialOf(c, name).detach());
            sum += spectral ? SquaredSpectral(d) : SquaredFrobenius(d);
        }
        return sum;
    }

    /// <summary>‖θ‖² over every parameter (biases included), or ‖θ − θ⁰‖² with <paramref name="fromInit"/>.</summary>
    public static double ParameterNorm(MeasureContext c, bool fromInit)
    {
        double sum = 0;
        var init = fromInit ? c.Initial!.named_parameters().ToDictionary(np => np.name, np => np.parameter) : null;
        foreach (var (name, p) in c.Model.named_parameters())
        {
            using var scope = torch.NewDisposeScope();
            var t = p.detach();
            if (init is not null)
            {
                if (!init.TryGetValue(name, out var p0)) throw new BasinException($"the initial weights have no '{name}'; they belong to " +
                    "another architecture");
                t = t.sub(p0.detach());
            }
            sum += t.to_type(ScalarType.Float64).pow(Scalars.Two).sum().ToDouble();
        }
        return sum;
    }
}
