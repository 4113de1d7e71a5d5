using Basin.Data;
using Basin.Models;

namespace Basin.Curvature;

/// <summary>
/// Settings of the estimators <see cref="CurvatureEstimates"/> picks: Hutchinson's stopping rule and probe limits (the
/// exact diagonal is taken instead when it costs at most <see cref="MaxProbes"/> products), Lanczos' tolerance and steps.
/// </summary>
public sealed record EstimateOptions
{
    /// <summary>Hutchinson stops once its standard error is at most this times |mean| (after <see cref="MinProbes"/>).</summary>
    public double RelativeStandardError { get; init; } = 0.05;
    public int MinProbes { get; init; } = 10;
    /// <summary>Most Hutchinson probes; a parameter set of at most this many entries gets the exact trace instead.</summary>
    public int MaxProbes { get; init; } = 200;
    /// <summary>Estimate the trace by Hutchinson even where it has a closed form or the exact diagonal is cheap.</summary>
    public bool ForceHutchinson { get; init; }
    /// <summary>
    /// Lanczos steps of the sketch Hutchinson's trace is deflated by (<see cref="HessianTrace.Deflated"/>); 0, the
    /// default, is plain Hutchinson. The sketch's steps count against the probe limits' products as extra.
    /// </summary>
    public int TraceSketch { get; init; }
    /// <summary>Lanczos: relative Ritz-residual tolerance and step limit.</summary>
    public double EigenTolerance { get; init; } = 1e-6;
    public int MaxLanczosSteps { get; init; } = 100;
    public int ChunkSize { get; init; } = 1000;
    public long Seed { get; init; }

    public static EstimateOptions Default { get; } = new();
}

/// <summary>
/// A Hessian trace: exact (<see cref="Method"/> "exact": a closed form or the diagonal, <see cref="StandardError"/> 0)
/// or Hutchinson's estimate ("hutchinson", or "deflated-hutchinson" after a Lanczos sketch) with its standard error and
/// probes.
/// </summary>
public sealed record TraceResult(double Value, double StandardError, string Method, int Probes, long Products)
{
    public const string Exact = "exact";
    public const string Hutchinson = "hutchinson";
    public const string DeflatedHutchinson = "deflated-hutchinson";
}

/// <summary>
/// The one policy that picks how a Hessian quantity of the mean cross-entropy is computed, for the CLI and for C# callers:
/// the operator is <see cref="HeadCurvature"/> (exact products by matrix algebra) for the head's weight, else autograd's
/// <see cref="HessianVectorProduct"/>; the trace is the closed form for the head's weight (and bias), else the exact
/// diagonal when the parameters are at most <see cref="EstimateOptions.MaxProbes"/>, else Hutchinson's estimate; top
/// eigenvalues are Lanczos' on that operator. The data are used whole: take a subset first to limit the cost.
/// </summary>
public static class CurvatureEstimates
{
    /// <summary>The Hessian of the mean cross-entropy by <paramref name="parameters"/> as an operator (dispose it).</summary>
    public static ICurvatureProduct Hessian(Classifier model, LabeledDataset data, ParameterSet parameters, EstimateOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= EstimateOptions.Default;
        return IsHead(model, parameters, withBias: false)
            ? HeadCurvature.Create(model, data, options.ChunkSize, cancellationToken: cancellationToken)
            : new HessianVectorProduct(model, data, parameters, new CurvatureOptions { ChunkSize = options.ChunkSize });
    }

    /// <summary>
    /// Tr H by <paramref name="parameters"/>, by the policy above. <paramref name="hessian"/>: the operator
    /// <see cref="Hessian"/> built for the same parameters, to reuse (it is not disposed); null builds one when needed.
    /// </summary>
    public static TraceResult Trace(Classifier model, LabeledDataset data, ParameterSet parameters, EstimateOptions? options = null,
        ICurvatureProduct? hessian = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= EstimateOptions.Default;
        if (!options.ForceHutchinson && IsHead(model, parameters, withBias: true))
        {
            // Exact for the head's weight and bias: (1/N) Σ_n (‖φ_n‖² + 1)(1 − ‖p_n‖²).
            using var head = HeadCurvature.Create(model, data, options.ChunkSize, cancellationToken: cancellationToken);
            return new TraceResult(head.Trace() + (model.Head.bias is null ? 0 : head.BiasTrace()), 0, TraceResult.Exact, 0, 0);
        }
        if (hessian is not null) return Trace(hessian, options, cancellationToken);
        var op = Hessian(model, data, parameters, options, cancellationToken);
        try { return Trace(op, options, cancellationToken); }
        finally { (op as IDisposable)?.Dispose(); }
    }

    /// <summary>Tr of an operator: the closed form of <see cref="HeadCurvature"/>, else the exact diagonal or Hutchinson by size.</summary>
    public static TraceResult Trace(ICurvatureProduct op, EstimateOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        options ??= EstimateOptions.Default;
        if (op is HeadCurvature head && !options.ForceHutchinson) return new TraceResult(head.Trace(), 0, TraceResult.Exact, 0, 0);
        // No more entries than Hutchinson's probe limit: the exact diagonal costs at most as many products.
        if (!options.ForceHutchinson && op.Dimension <= options.MaxProbes)
        {
            long before = op.ProductCount;
            double exact = HessianTrace.Exact(op, cancellationToken);
            return new TraceResult(exact, 0, TraceResult.Exact, 0, op.ProductCount - before);
        }
        if (options.TraceSketch > 0)
        {
            var d = HessianTrace.Deflated(op, options.TraceSketch, options.RelativeStandardError, Math.Min(options.MinProbes,
                options.MaxProbes), options.MaxProbes, options.Seed, cancellationToken: cancellationToken);
            return new TraceResult(d.Mean, d.StandardError, TraceResult.DeflatedHutchinson, d.Samples, d.Products);
        }
        var e = HessianTrace.Hutchinson(op, options.RelativeStandardError, Math.Min(options.MinProbes, options.MaxProbes),
            options.MaxProbes, options.Seed, cancellationToken);
        return new TraceResult(e.Mean, e.StandardError, TraceResult.Hutchinson, e.Samples, e.Products);
    }

    /// <summary>The k largest eigenvalues (at most the dimension) of the Hessian by the parameters, by Lanczos.</summary>
    public static EigenvalueResult TopEigenvalues(Classifier model, LabeledDataset data, ParameterSet parameters, int k = 1,
        EstimateOptions? options = null, ICurvatureProduct? hessian = null, CancellationToken cancellationToken = default)
    {
        if (hessian is not null) return TopEigenvalues(hessian, k, options, cancellationToken);
        var op = Hessian(model, data, parameters, options, cancellationToken);
        try { return TopEigenvalues(op, k, options, cancellationToken); }
        finally { (op as IDisposable)?.Dispose(); }
    }

    /// <summary>The <paramref name="k"/> largest eigenvalues (at most the dimension) of <paramref name="op"/>, by Lanczos.</summary>
    public static EigenvalueResult TopEigenvalues(ICurvatureProduct op, int k = 1, EstimateOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        options ??= EstimateOptions.Default;
        return Lanczos.TopEigenvalues(op, (int)Math.Min(k, op.Dimension), options.EigenTolerance, options.MaxLanczosSteps, options.Seed,
            cancellationToken);
    }

    /// <summary>
    /// The Gauss–Newton matrix of the mean cross-entropy by <paramref name="parameters"/> as an operator (dispose it): for the
    /// head's weight the loss is linear-then-softmax in W, so its Hessian (<see cref="HeadCurvature"/>) is its Gauss–Newton
    /// matrix exactly; else <see cref="GaussNewtonVectorProduct"/>.
    /// </summary>
    public static ICurvatureProduct GaussNewton(Classifier model, LabeledDataset data, ParameterSet parameters,
        EstimateOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= EstimateOptions.Default;
        return IsHead(model, parameters, withBias: false)
            ? HeadCurvature.Create(model, data, options.ChunkSize, cancellationToken: cancellationToken)
            : new GaussNewtonVectorProduct(model, data, parameters, new CurvatureOptions { ChunkSize = options.ChunkSize });
    }

    /// <summary>
    /// Outliers of <paramref name="op"/>'s spectrum above its bulk (<see cref="SpectrumOutliers"/>). Sagun et al. find about one
    /// outlier per class, so Lanczos looks at max(<paramref name="top"/>, 3 × classes) eigenvalues (at most the dimension), with
    /// at least three steps per eigenvalue, to see the bulk below them.
    /// </summary>
    public static OutlierResult Outliers(ICurvatureProduct op, int classes, int top = 1, EstimateOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        options ??= EstimateOptions.Default;
        int k = (int)Math.Min(op.Dimension, Math.Max(top, 3 * classes));
        var values = Lanczos.TopEigenvalues(op, k, options.EigenTolerance, Math.Max(options.MaxLanczosSteps, 3 * k), options.Seed,
            cancellationToken);
        return new OutlierResult(SpectrumOutliers.Count(values.Values), values.Values, values.Products);
    }

    /// <summary>The spectral density of <paramref name="op"/> by stochastic Lanczos quadrature, seeded by the options.</summary>
    public static SpectralDensityResult Density(ICurvatureProduct op, int runs, int steps, EstimateOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        options ??= EstimateOptions.Default;
        return SpectralDensity.Slq(op, runs, steps, seed: options.Seed, cancellationToken: cancellationToken);
    }

    /// <summary>True when the parameters are the head's weight (and, <paramref name="withBias"/>, its bias where it has one).</summary>
    static bool IsHead(Classifier model, ParameterSet parameters, bool withBias)
    {
        var head = model.HeadName;
        string[] expected = withBias && model.Head.bias is not null ? [head + ".weight", head + ".bias"] : [head + ".weight"];
        return parameters.Names.Count == expected.Length && expected.All(parameters.Names.Contains);
    }
}
