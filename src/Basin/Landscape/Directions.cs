using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>How a random direction is rescaled against the weights θ ("Visualizing the Loss Landscape of Neural Nets", Li et al.
/// 2018).</summary>
public enum DirectionNorm
{
    /// <summary>Each filter (output row of a linear weight, output channel of a conv kernel) gets the norm of the same filter in
    /// θ.</summary>
    Filter,
    /// <summary>Each weight tensor as a whole gets the norm of the same tensor in θ.</summary>
    Layer,
    /// <summary>Plain Gaussian entries, not rescaled (the scale-dependent plot filter normalization corrects).</summary>
    None,
}

/// <summary>What a direction does along biases and other one-dimensional parameters.</summary>
public enum BiasMode
{
    /// <summary>Zero: biases stay fixed (the reference scripts' choice).</summary>
    Zero,
    /// <summary>Gaussian, rescaled to the norm of the bias in θ.</summary>
    Random,
    /// <summary>d = θ (what the reference code does when biases are not ignored: moving by α scales them by 1 + α).</summary>
    Copy,
}

/// <summary>
/// Directions in weight space, one tensor per parameter of the model in <c>named_parameters()</c> order: filter-normalized
/// Gaussian directions, the top eigenvectors of the Hessian, and the direction from one solution to another.
/// Results are new tensors in the caller's dispose scope.
/// </summary>
public static class Directions
{
    const double FilterEpsilon = 1e-10;

    /// <summary>
    /// A Gaussian direction drawn from <paramref name="seed"/> (one draw per parameter in order, whatever the modes, so the weights'
    /// directions do not depend on <paramref name="bias"/>), rescaled per <paramref name="norm"/>; parameters with one dimension
    /// follow <paramref name="bias"/>.
    /// </summary>
    public static Tensor[] Random(nn.Module model, long seed, DirectionNorm norm = DirectionNorm.Filter, BiasMode bias = BiasMode.Zero)
    {
        using var noGrad = torch.no_grad();
        using var generator = new torch.Generator(unchecked((ulong)seed));
        var result = new List<Tensor>();
        foreach (var p in model.parameters())
        {
            using var scope = torch.NewDisposeScope();
            var d = torch.randn(p.shape, p.dtype, generator: generator);
            Tensor r;
            if (p.dim() > 1)
                r = norm switch
                {
                    DirectionNorm.Filter => RescaleRows(d, p),
                    DirectionNorm.Layer => RescaleWhole(d, p),
                    _ => d,
                };
            else
                r = bias switch
                {
                    BiasMode.Zero => torch.zeros_like(p),
                    BiasMode.Random => RescaleWhole(d, p),
                    _ => p.detach().clone(),
                };
            result.Add(r.MoveToOuterDisposeScope());
        }
        return result.ToArray();
    }

    // d_i ← d_i · ‖θ_i‖ / (‖d_i‖ + ε) for every slice i along dim 0.
    static Tensor RescaleRows(Tensor d, Tensor theta)
    {
        long rows = d.shape[0];
        using var eps = FilterEpsilon.ToScalar();
        var dn = d.reshape(rows, -1).norm(1, true);
        var tn = theta.detach().reshape(rows, -1).norm(1, true);
        var factor = tn.div(dn.add(eps, Scalars.One));
        return d.reshape(rows, -1).mul(factor).reshape(d.shape);
    }

    static Tensor RescaleWhole(Tensor d, Tensor theta)
    {
        using var eps = FilterEpsilon.ToScalar();
        var factor = theta.detach().norm().div(d.norm().add(eps, Scalars.One));
        return d.mul(factor);
    }

    /// <summary>θ_B − θ_A; throws a <see cref="BasinException"/> when the two models differ in parameter names or shapes.</summary>
    public static Tensor[] Between(nn.Module a, nn.Module b)
    {
        CheckSameArchitecture(a, b);
        using var noGrad = torch.no_grad();
        return a.parameters().Zip(b.parameters(), (pa, pb) => pb.detach().sub(pa)).ToArray();
    }

    /// <summary>Checks that two models have the same parameter names, shapes and dtypes, in the same order.</summary>
    public static void CheckSameArchitecture(nn.Module a, nn.Module b, string nameA = "the first model", string nameB = "the second model")
    {
        var pa = a.named_parameters().ToArray();
        var pb = b.named_parameters().ToArray();
        if (pa.Length != pb.Length)
            throw new BasinException($"{nameA} and {nameB} have different architectures ({pa.Length} against " +
                $"{pb.Length} parameter tensors)");
        for (int i = 0; i < pa.Length; i++)
        {
            if (pa[i].name != pb[i].name || !pa[i].parameter.shape.SequenceEqual(pb[i].parameter.shape))
                throw new BasinException($"{nameA} and {nameB} have different architectures: {pa[i].name} " +
                    $"[{string.Join(",", pa[i].parameter.shape)}] " +
                    $"against {pb[i].name} [{string.Join(",", pb[i].parameter.shape)}]");
            if (pa[i].parameter.dtype != pb[i].parameter.dtype)
                throw new BasinException($"{nameA} and {nameB} differ in dtype ({pa[i].parameter.dtype} against {pb[i].parameter.dtype})");
        }
    }

    /// <summary>
    /// The top <paramref name="k"/> eigenvectors (unit norm, largest eigenvalue first) of the Hessian of the mean cross-entropy over
    /// <paramref name="data"/> by all parameters, from Lanczos with full reorthogonalization; also their Ritz values.
    /// </summary>
    public static (Tensor[][] Vectors, double[] Values) HessianEigenvectors(nn.Module<Tensor, Tensor> model, LabeledDataset data, int k,
        int maxSteps = 60, long seed = 0, int chunkSize = 1000, CancellationToken cancellationToken = default)
    {
        var set = ParameterSet.All(model);
        using var hvp = new HessianVectorProduct(model, data, set, new CurvatureOptions { ChunkSize = chunkSize });
        return Lanczos.TopEigenvectors(hvp, k, maxSteps, seed, cancellationToken);
    }

    /// <summary>Cosine of the angle between two directions (random directions in high dimension are nearly orthogonal).</summary>
    public static double Cosine(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b)
    {
        double na = ParamVectors.Norm(a), nb = ParamVectors.Norm(b);
        return na == 0 || nb == 0 ? 0 : ParamVectors.Dot(a, b) / (na * nb);
    }

    /// <summary>Euclidean norm of a direction.</summary>
    public static double Norm(IReadOnlyList<Tensor> d) => ParamVectors.Norm(d);
}
