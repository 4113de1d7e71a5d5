using Basin.Curvature;
using Basin.Native;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>
/// Relative flatness of one layer ("Relative Flatness and Generalization", NeurIPS 2021):
/// κ_Tr(W) = Σ_{s,t} ⟨W_s, W_t⟩ Tr(H_{s,t}), with H the Hessian of the mean loss by the layer's weight
/// W ∈ R^{d×m} (rows W_s: the weights into output neuron s; cross terms s ≠ t included), and the variants of
/// <see cref="FlatnessVariant"/>. The default layer is the head; a Conv2d weight is read as out × (in·kh·kw).
/// Biases are not part of W. The model is measured in eval mode.
/// </summary>
public static class RelativeFlatness
{
    /// <summary>Layers of at most this many weights get the exact <see cref="FlatnessVariant.Block"/> variant by default.</summary>
    public const long BlockLimit = 1024;

    /// <summary>
    /// The variant used when none is named: the closed form for the head (cross-entropy), the exact block variant for a
    /// layer of at most <see cref="BlockLimit"/> weights, else the estimator.
    /// </summary>
    public static FlatnessVariant DefaultVariant(Classifier model, string? layer = null)
    {
        var flat = FlatLayer.Resolve(model, layer);
        if (flat.IsHead) return FlatnessVariant.ClosedForm;
        return flat.Rows * flat.Columns <= BlockLimit ? FlatnessVariant.Block : FlatnessVariant.Estimator;
    }

    /// <summary>κ of <paramref name="layer"/> (null: the head) by <paramref name="variant"/> (null: the default one).</summary>
    public static FlatnessResult Measure(Classifier model, LabeledDataset data, string? layer = null,
        FlatnessVariant? variant = null, FlatnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new FlatnessOptions();
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; relative flatness needs at least one sample");
        var flat = FlatLayer.Resolve(model, layer);
        var chosen = variant ?? DefaultVariant(model, layer);
        using var eval = new EvalMode(model);
        using var scope = torch.NewDisposeScope();
        Tensor? scale = null, keep = null;
        if (options.NormalizeFeatures) (scale, keep) = FeatureScalesAndKept(model, data, flat, options.ChunkSize);
        // Folding constant features (dead units): their columns leave ⟨W_s, W_t⟩, as if W_{·j}·c_j were moved into the bias
        // (what the sweep's feature-normalized measure does), so the value is invariant to rescaling them.
        var w = scale is null ? flat.Matrix() : flat.Matrix().mul(scale.reshape(1, -1));
        if (scale is not null && options.FoldConstantFeatures) w = w.mul(keep!.reshape(1, -1));
        double m = flat.Columns, d = flat.Rows;
        double norm2 = w.pow(Scalars.Two).sum().ToDouble();
        double divide = options.Normalized ? m : 1;

        FlatnessResult Result(double value, double? se = null, int? probes = null, long products = 0, bool normalized = true) =>
            new(flat.Name, chosen, value, data.Count, se, probes, products, normalized && options.Normalized, options.WeightDecay,
                options.NormalizeFeatures);

        if (chosen == FlatnessVariant.ClosedForm)
        {
            if (!flat.IsHead || options.Loss is not null)
                throw new BasinException($"the closed form holds for the head ({model.HeadName}) with cross-entropy; for layer " +
                    $"'{flat.Name}' use the Block or Estimator variant");
            double kappa = ClosedForm(model, data, flat, scale, w, options.ChunkSize, cancellationToken)
                + 2 * options.WeightDecay * m * norm2;
            return Result(kappa / divide);
        }

        // The head with cross-entropy has exact products by matrix algebra on features computed once.
        using var disposable = flat.IsHead && options.Loss is null
            ? (IDisposable)HeadCurvature.Create(model, data, options.ChunkSize, scale, options.WeightDecay, cancellationToken)
            : new LayerCurvature(model, data, flat, scale, options);
        var op = (ICurvatureProduct)disposable;
        switch (chosen)
        {
            case FlatnessVariant.Block:
                {
                    var h = CurvatureMatrix.Full(op, cancellationToken).reshape(flat.Rows, flat.Columns, flat.Rows, flat.Columns);
                    var t = h.diagonal(0, 1, 3).sum(-1);              // T[s,t] = Σ_k H[(s,k),(t,k)]
                    var w64 = w.to_type(ScalarType.Float64);
                    double kappa = w64.mm(w64.T).mul(t).sum().ToDouble();
                    return Result(kappa / divide, products: op.ProductCount);
                }
            case FlatnessVariant.Estimator:
                {
                    var e = RankOneEstimate(op, w, options, cancellationToken);
                    return Result(e.Mean / divide, e.StandardError / divide, e.Samples, op.ProductCount);
                }
            case FlatnessVariant.NeuronWiseMaxEigenvalue:
                {
                    var rowNorms = w.pow(Scalars.Two).sum(1).to_type(ScalarType.Float64).data<double>().ToArray();
                    double kappa = 0;
                    for (long s = 0; s < flat.Rows; s++)
                    {
                        var top = Lanczos.TopEigenvalues(new RowBlock(op, s), 1, options.EigenTolerance, options.MaxLanczosSteps,
                            options.Seed + s, cancellationToken);
                        kappa += rowNorms[s] * top.Values[0];
                    }
                    return Result(kappa / divide, products: op.ProductCount);
                }
            case FlatnessVariant.LayerWiseTrace:
                {
                    double factor = norm2 / (d * m);
                    // The head's trace has a closed form (HeadCurvature.Trace): exact, no probes, no standard error.
                    if (op is HeadCurvature head) return Result(factor * head.Trace(), 0, null, op.ProductCount, normalized: false);
                    var tr = HessianTrace.Hutchinson(op, options.RelativeStandardError, options.MinSamples, options.MaxSamples,
                        options.Seed, cancellationToken);
                    return Result(factor * tr.Mean, factor * tr.StandardError, tr.Samples, op.ProductCount, normalized: false);
                }
            case FlatnessVariant.LayerWiseMaxEigenvalue:
                {
                    var top = Lanczos.TopEigenvalues(op, 1, options.EigenTolerance, options.MaxLanczosSteps, options.Seed,
                        cancellationToken);
                    return Result(norm2 * top.Values[0], products: op.ProductCount, normalized: false);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), chosen, null);
        }
    }

    /// <summary>
    /// The closed form for softmax cross-entropy on a batch, differentiable in all arguments (FAM's regularizer):
    /// with logits z_n = W φ_n + b and p_n = softmax(z_n),
    /// κ_Tr = (1/N) Σ_n ‖φ_n‖² (Σ_s p_n[s] ‖W_s‖² − ‖Σ_s p_n[s] W_s‖²),
    /// because the block Hessian is H[(s,k),(t,l)] = (1/N) Σ_n (diag(p_n) − p_n p_nᵀ)[s,t] φ_n[k] φ_n[l].
    /// It is the softmax-weighted variance of W's rows, weighted by ‖φ_n‖². Valid when W is the last layer.
    /// </summary>
    /// <param name="features">φ, [N, m].</param>
    /// <param name="weight">W, [d, m].</param>
    /// <param name="bias">b, [d], or null.</param>
    public static Tensor TraceTerm(Tensor features, Tensor weight, Tensor? bias = null)
    {
        if (features.dim() != 2 || weight.dim() != 2 || features.shape[1] != weight.shape[1])
            throw new BasinException($"relative flatness needs features [N,m] and weight [d,m], got [{string.Join(",", features.shape)}] " +
                $"and [{string.Join(",", weight.shape)}]");
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new BasinException($"bias must be [{weight.shape[0]}], got [{string.Join(",", bias.shape)}]");
        if (features.dtype != weight.dtype || (bias is not null && bias.dtype != weight.dtype))
            throw new BasinException($"features, weight and bias must share a dtype, got {features.dtype}, " +
                $"{weight.dtype}{(bias is null ? "" : ", " + bias.dtype)}");
        if (features.shape[0] == 0) throw new BasinException("relative flatness needs at least one sample");
        using var scope = torch.NewDisposeScope();
        var p = nn.functional.softmax(nn.functional.linear(features, weight, bias), 1);
        var expectedNorm = p.mv(weight.pow(Scalars.Two).sum(1));          // Σ_s p[s] ‖W_s‖²
        var meanRow = p.mm(weight);                                 // Σ_s p[s] W_s
        var variance = expectedNorm - meanRow.pow(Scalars.Two).sum(1);
        return features.pow(Scalars.Two).sum(1).mul(variance).mean().MoveToOuterDisposeScope();
    }

    static double ClosedForm(Classifier model, LabeledDataset data, FlatLayer head, Tensor? scale, Tensor w, int chunkSize,
        CancellationToken cancellationToken)
    {
        if (chunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {chunkSize}");
        using var noGrad = torch.no_grad();
        var bias = head.Bias?.detach();
        double total = 0;
        foreach (var chunk in data.Chunks(chunkSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var phi = model.Features(chunk.Inputs(w.dtype));
            if (scale is not null) phi = phi.div(scale);
            total += TraceTerm(phi, w, bias).ToDouble() * chunk.Count;
        }
        return total / data.Count;
    }

    // E[⟨V, HV⟩] = κ_Tr for V = (Wδ)εᵀ with Rademacher δ, ε: E[δδᵀ] = I gives ⟨W_s, W_t⟩ and E[εεᵀ] = I the traces.
    static Estimate RankOneEstimate(ICurvatureProduct op, Tensor w, FlatnessOptions options, CancellationToken cancellationToken)
    {
        long m = w.shape[1];
        using var generator = new torch.Generator(unchecked((ulong)options.Seed));
        var stats = MonteCarlo.Until(options.RelativeStandardError, options.MinSamples, options.MaxSamples, () =>
        {
            var delta = ParamVectors.Rademacher([[m]], w.dtype, generator)[0];
            var epsilon = ParamVectors.Rademacher([[m]], w.dtype, generator)[0];
            var v = torch.outer(w.mv(delta), epsilon);
            return ParamVectors.Dot([v], op.Apply([v]));
        }, cancellationToken);
        return new Estimate(stats.Mean, stats.StandardError, stats.Count, stats.Count);
    }

    /// <summary>
    /// σ_j: the population standard deviation of each input feature of the layer over the data (and positions, for a
    /// conv layer), in float64, 1 where a feature is constant so that it is left unscaled; and a mask (the layer's dtype)
    /// that is 0 for constant features, 1 for the others.
    /// </summary>
    internal static (Tensor Sigma, Tensor Kept) FeatureScalesAndKept(Classifier model, LabeledDataset data, FlatLayer layer, int chunkSize)
    {
        if (chunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {chunkSize}");
        using var scope = torch.NewDisposeScope();
        var (_, variance, constant) = FeatureStatistics.Moments(data, chunkSize, layer.Weight.dtype,
            x => layer.Features(LayerInputs.Capture(model, layer, x)));
        var sigma = torch.where(constant, torch.ones_like(variance), variance.sqrt());
        var dtype = layer.Weight.dtype;
        return (sigma.to_type(dtype).MoveToOuterDisposeScope(), constant.logical_not().to_type(dtype).MoveToOuterDisposeScope());
    }
}
