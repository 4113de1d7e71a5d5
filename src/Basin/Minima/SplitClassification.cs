using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>The second-order type of a point of the split line.</summary>
public enum PointType
{
    /// <summary>A (degenerate) local minimum: positive semidefinite Hessian whose kernel is the line.</summary>
    Minimum,
    /// <summary>At least one direction of negative curvature.</summary>
    Saddle,
    /// <summary>λ ∈ {0, 1}: the quadratic term vanishes; third and fourth orders decide, so the point is not classified.</summary>
    Boundary,
    /// <summary>The prediction needs a strict small minimum and a nonsingular B; one of them fails.</summary>
    Undecided,
}

/// <summary>Tolerances of <see cref="SplitClassification"/>.</summary>
public sealed record SplitOptions
{
    /// <summary>The starting point is critical when ‖∇L‖ ≤ this; otherwise the classification is refused.</summary>
    public double CriticalTolerance { get; init; } = 1e-8;
    /// <summary>An eigenvalue is zero when |value| ≤ this × the matrix's largest |eigenvalue|.</summary>
    public double ZeroTolerance { get; init; } = 1e-10;
    /// <summary>
    /// M counts as zero when ‖(I − v̂v̂ᵀ)M‖ ≤ this × ‖M‖ (v*ᵀM = 0 holds at any critical point), or when it is below the
    /// zero tolerance times H_small's largest |eigenvalue| (too small to move an eigenvalue past the tolerance).
    /// </summary>
    public double MZeroTolerance { get; init; } = 1e-8;
    /// <summary>The unit is saturated (B ≈ 0, the classification meaningless) when max_n σ'(z_n)/σ'(0) is below this.</summary>
    public double SaturationFloor { get; init; } = 1e-4;
    /// <summary>How many of the smallest Hessian eigenvalues each point reports.</summary>
    public int Smallest { get; init; } = 4;

    public void Check()
    {
        if (!(CriticalTolerance > 0)) throw new BasinException($"the critical tolerance must be positive, got {CriticalTolerance}");
        if (!(ZeroTolerance > 0 && ZeroTolerance < 1))
            throw new BasinException($"the zero tolerance must lie in (0, 1), got {ZeroTolerance}");
        if (!(MZeroTolerance > 0 && MZeroTolerance < 1))
            throw new BasinException($"the M tolerance must lie in (0, 1), got {MZeroTolerance}");
        if (!(SaturationFloor >= 0 && SaturationFloor < 1))
            throw new BasinException($"the saturation floor must lie in [0, 1), got {SaturationFloor}");
        if (Smallest < 1) throw new BasinException($"report at least 1 eigenvalue, got {Smallest}");
    }
}

/// <summary>
/// One point θ(λ) of the split line: the predicted type and inertia (H_small's inertia plus the split block's, see
/// <see cref="SplitClassification.SplitBlock"/>) and the type and inertia the full Hessian's spectrum shows; they agree when
/// the types and the numbers of negative eigenvalues match. Observed "minimum" means no negative eigenvalue (second order only).
/// KernelLineCosine is |cos| between
/// the eigenvector of the smallest |eigenvalue| and the line direction dθ/dλ. PlaneCurvature (M ≠ 0 only) is the least
/// curvature in the plane of the split direction D_u and the transfer direction D_η built from M's top singular pair.
/// </summary>
public sealed record SplitPoint(double Lambda, PointType Predicted, string Reason, PointType? Observed, Inertia? BlockInertia,
    Inertia? PredictedInertia,
    Inertia? ObservedInertia, double[] SmallestEigenvalues, double? KernelLineCosine, double? PlaneCurvature, bool? Agrees);

/// <summary>The classification of a split line: the small network's facts, B, M, and one row per λ.</summary>
public sealed record SplitClassification(string Network, int Layer, int Unit, int SmallParameters, int SplitParameters, double Loss,
    double GradientNorm, double[] SmallHessianEigenvalues, Inertia SmallInertia, double[] BEigenvalues, double MNorm,
    double MOrthogonalNorm, double OutgoingTimesMNorm, bool MIsZero, double MaxDerivativeRatio, IReadOnlyList<SplitPoint> Points)
{
    /// <summary>
    /// Classifies θ(λ) for each λ (Petzka &amp; Sminchisescu, "Non-attracting regions of local minima in deep and wide neural
    /// networks"; second-order analysis as in the Basin docs): the inertia of the Hessian at θ(λ) is that of H_small plus that
    /// of the split block [[λ(1−λ)B, Mᵀ], [M, 0]]. With M = 0 that is λ(1−λ)B's plus one zero per transfer direction (for one
    /// next-layer unit: the line); with M ≠ 0 the block has a negative eigenvalue, so every point is a saddle. Each prediction is checked
    /// against the split network's full Hessian spectrum (dense, double backward).
    /// </summary>
    public static SplitClassification Classify(SmoothNet small, FitData data, int layer, int unit, IReadOnlyList<double> lambdas,
        SplitOptions? options = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(small);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(lambdas);
        options ??= new SplitOptions();
        options.Check();
        small.CheckUnit(layer, unit);
        if (lambdas.Count == 0) throw new BasinException("give at least one λ");
        if (lambdas.Any(l => !double.IsFinite(l))) throw new BasinException("every λ must be a finite number");
        var (loss, gradient) = NetLoss.LossAndGradient(small, data);
        double gradNorm = NetLoss.Norm(gradient);
        if (!(gradNorm <= options.CriticalTolerance))
            throw new BasinException($"the starting point is not critical: ‖∇L‖ = {gradNorm:E3} > {options.CriticalTolerance:E0}, " +
                "so the split line is not a line of critical points; polish it to a minimum first (Newton, --polish)");
        var curvature = SplitCurvature.At(small, data, layer, unit);
        if (curvature.MaxDerivativeRatio < options.SaturationFloor)
            throw new BasinException($"unit {unit} of layer {layer} is saturated on all data (max σ'(z)/σ'(0) = " +
                $"{curvature.MaxDerivativeRatio:E2}): B ≈ 0 and its classification would be numerically meaningless");
        progress?.Report("small network Hessian");
        var smallEigen = SymmetricEigen.Of(NetLoss.Hessian(small, data));
        var smallInertia = smallEigen.InertiaAt(options.ZeroTolerance);
        var bEigen = SymmetricEigen.Of(curvature.B);
        double mNorm = curvature.MNorm(), mOrth = curvature.MOrthogonalNorm();
        // M = 0 when its free part is rounding next to M itself, or too small to move any eigenvalue past the zero tolerance.
        bool mZero = mOrth <= options.MZeroTolerance * mNorm || mOrth <= options.ZeroTolerance * smallEigen.Scale;
        var line = NeuronSplit.LineDirection(small, layer, unit);
        var points = new List<SplitPoint>();
        foreach (var lambda in lambdas)
        {
            progress?.Report($"λ = {lambda:G4}");
            points.Add(Point(small, data, layer, unit, lambda, options, curvature, smallEigen, smallInertia, bEigen, mZero, line));
        }
        return new SplitClassification(small.Describe(), layer, unit, small.ParameterCount(),
            small.ParameterCount() + small.Sizes[layer - 1] + 1 + small.Sizes[layer + 1],
            loss, gradNorm, smallEigen.Values, smallInertia, bEigen.Values, mNorm, mOrth, curvature.OutgoingTimesMNorm(), mZero,
            curvature.MaxDerivativeRatio, points);
    }

    /// <summary>True for λ = 0 or 1 (to 1e-12), where the construction's quadratic term vanishes.</summary>
    public static bool IsBoundary(double lambda) => Math.Abs(lambda) <= 1e-12 || Math.Abs(lambda - 1) <= 1e-12;

    static SplitPoint Point(SmoothNet small, FitData data, int layer, int unit, double lambda, SplitOptions options,
        SplitCurvature curvature, SymmetricEigen smallEigen, Inertia smallInertia, SymmetricEigen bEigen, bool mZero, double[] line)
    {
        if (IsBoundary(lambda))
            return new SplitPoint(lambda, PointType.Boundary,
                "λ ∈ {0, 1}: the quadratic term vanishes and higher orders decide; not classified",
                null, null, null, null, [], null, null, null);
        double tolerance = options.ZeroTolerance * smallEigen.Scale;
        var scaledB = bEigen.Values.Select(v => lambda * (1 - lambda) * v).ToArray();
        int bNegative = scaledB.Count(v => v < -tolerance);
        var block = SymmetricEigen.Of(SplitBlock(curvature, lambda)).InertiaAbove(tolerance);
        var predictedInertia = new Inertia(smallInertia.Negative + block.Negative, smallInertia.Zero + block.Zero,
            smallInertia.Positive + block.Positive);
        int transfer = small.Sizes[layer + 1];
        PointType predicted;
        string reason;
        if (predictedInertia.Negative > 0)
        {
            var causes = new List<string>();
            if (smallInertia.Negative > 0) causes.Add($"H_small has {smallInertia.Negative} negative eigenvalue(s)");
            if (bNegative > 0) causes.Add($"λ(1−λ)B has {bNegative}");
            if (block.Negative > bNegative) causes.Add($"M ≠ 0 adds {block.Negative - bNegative} (split and transfer directions couple)");
            (predicted, reason) = (PointType.Saddle, string.Join("; ", causes));
        }
        else if (predictedInertia.Zero == transfer)
            (predicted, reason) = (PointType.Minimum, "H_small ≻ 0, λ(1−λ)B ≻ 0 and M = 0: a degenerate " +
                "minimum (kernel = the line)");
        else (predicted, reason) = (PointType.Undecided,
            "no negative curvature, but the Hessian is singular beyond the line: higher orders decide");
        var split = NeuronSplit.Split(small, layer, unit, lambda);
        var hessian = NetLoss.Hessian(split, data);
        var eigen = SymmetricEigen.Of(hessian);
        var inertia = eigen.InertiaAt(options.ZeroTolerance);
        var observed = inertia.Negative > 0 ? PointType.Saddle : PointType.Minimum;
        // ‖P_kernel ℓ̂‖: how much of the unit line direction lies in the numerical kernel (1: all of it).
        double zero = options.ZeroTolerance * eigen.Scale, lineNorm = NetLoss.Norm(line), inKernel = 0;
        for (int i = 0; i < eigen.Values.Length; i++)
            if (Math.Abs(eigen.Values[i]) <= zero)
            {
                double c = Dot(eigen.Vectors[i], line) / lineNorm;
                inKernel += c * c;
            }
        double cosine = Math.Sqrt(inKernel);
        double? plane = mZero ? null : PlaneCurvature(small, layer, unit, lambda, curvature, hessian);
        bool? agrees = predicted is PointType.Minimum or PointType.Saddle
            ? predicted == observed && predictedInertia.Negative == inertia.Negative
            : null;
        return new SplitPoint(lambda, predicted, reason, observed, block, predictedInertia, inertia,
            eigen.Values.Take(options.Smallest).ToArray(), cosine, plane, agrees);
    }

    /// <summary>
    /// The Hessian's bilinear form on the split directions D_u(u) and the transfer directions D_η(η), coordinates (u, η):
    /// [[λ(1−λ)B, Mᵀ], [M, 0]]. Nothing else couples to them, so the split network's inertia is H_small's plus this block's
    /// (Sylvester's law of inertia).
    /// </summary>
    public static double[,] SplitBlock(SplitCurvature curvature, double lambda)
    {
        int c = curvature.B.GetLength(0), k = curvature.M.GetLength(0);
        var s = new double[c + k, c + k];
        for (int i = 0; i < c; i++) for (int j = 0; j < c; j++) s[i, j] = lambda * (1 - lambda) * curvature.B[i, j];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < c; j++)
                s[c + i, j] = s[j, c + i] = curvature.M[i, j];
        return s;
    }

    /// <summary>Least Rayleigh quotient of H on span{D_u, D_η}, u and η M's top right and left singular vectors.</summary>
    static double PlaneCurvature(SmoothNet small, int layer, int unit, double lambda, SplitCurvature curvature, double[,] hessian)
    {
        using var scope = torch.NewDisposeScope();
        var (left, _, rightT) = torch.linalg.svd(torch.tensor(curvature.M, dtype: float64), fullMatrices: false);
        var eta = left.select(1, 0).contiguous().data<double>().ToArray();
        var u = rightT.select(0, 0).contiguous().data<double>().ToArray();
        var a = Normalized(NeuronSplit.SplitDirection(small, layer, unit, lambda, u));
        var b = NeuronSplit.TransferDirection(small, layer, unit, eta);
        double ab = Dot(a, b);
        b = Normalized(b.Select((x, i) => x - ab * a[i]).ToArray());
        double haa = Quadratic(hessian, a, a), hab = Quadratic(hessian, a, b), hbb = Quadratic(hessian, b, b);
        return 0.5 * (haa + hbb) - Math.Sqrt(0.25 * (haa - hbb) * (haa - hbb) + hab * hab);
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] Normalized(double[] a)
    {
        double n = NetLoss.Norm(a);
        return a.Select(x => x / n).ToArray();
    }

    static double Quadratic(double[,] h, double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double r = 0;
            for (int j = 0; j < b.Length; j++) r += h[i, j] * b[j];
            s += a[i] * r;
        }
        return s;
    }
}
