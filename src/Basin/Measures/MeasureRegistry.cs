using static Basin.Measures.CostClass;
using static Basin.Measures.Invariance;

namespace Basin.Measures;

/// <summary>
/// The measure catalog: every measure name Basin knows, once, with its facts. `basin measures` lists it; sweep files,
/// `basin sweep`/`basin tightness --measures` and the run database use the names of <see cref="MeasureScope.Model"/>
/// (one number per model, <see cref="All"/>, computed here); `basin geometry --measures` those of
/// <see cref="MeasureScope.Layer"/> (per layer, computed by the geometry job). A name means one quantity everywhere and
/// says which parameters it reads where that changes the number ("-head": the head's weight and bias, "-weight": a
/// layer's weight only, "-all": all parameters). Old names (<see cref="Renamed"/>) are still accepted, with a note.
/// </summary>
public static class MeasureRegistry
{
    static Measure M(string name, string definition, string reads, bool init, Invariance invariance, CostClass cost,
        (SizeScaling Scaling, string Reason) bound, Func<MeasureContext, double> f, MeasureScope scope = MeasureScope.Model) =>
        new(new MeasureFacts(name, definition, reads, init, invariance, cost, bound.Scaling, bound.Reason) { Scope = scope }, f);

    // How each measure enters a bound with m training examples (Jiang et al. 2020, §"adjusted for dataset size"),
    // one reason per kind of measure.
    static readonly (SizeScaling, string) Capacity = (SizeScaling.SquareRoot, "a norm- or count-based capacity term C (Jiang et al.)");
    static readonly (SizeScaling, string) LogCapacity = (SizeScaling.HalfLog, "the logarithm of a capacity term C: log √(C/m)");
    static readonly (SizeScaling, string) MarginTerm = (SizeScaling.SquareRoot, "1/γ² is the capacity term of a margin bound");
    static readonly (SizeScaling, string) PacBayesKl = (SizeScaling.SquareRoot, "1/σ² is the KL term of a PAC-Bayes bound");
    static readonly (SizeScaling, string) SharpnessKl = (SizeScaling.SquareRoot, "1/α² plays 1/σ² in the sharpness PAC-Bayes " +
        "bound of Jiang et al.");
    static readonly (SizeScaling, string) CurvatureTerm = (SizeScaling.SquareRoot, "at a fixed loss increase, curvature plays 1/σ² " +
        "(ΔL ≈ σ²·Tr H/2, α²·λ_max/2)");
    static readonly (SizeScaling, string) RelativeFlatnessTerm = (SizeScaling.SquareRoot, "κ_Tr is a ‖w‖²-weighted Hessian trace " +
        "(Petzka et al.): scaled as the trace");
    static readonly (SizeScaling, string) LossIncrease = (SizeScaling.None, "a training-loss increase, already on the scale of the " +
        "gap, not a capacity term");
    static readonly (SizeScaling, string) GradientStatistic = (SizeScaling.None, "a statistic of per-example gradients on a fixed number " +
        "of examples, not a capacity term");
    static readonly (SizeScaling, string) Speed = (SizeScaling.None, "an optimization speed (steps), not a capacity term");

    static double Gamma(MeasureContext c) => Margin.Percentile(c.Model, c.Data, c.Options.MarginPercentile, c.Options.ChunkSize);

    // log(x/γ²) = log x + log(1/γ²); +∞ when the margin is not positive.
    static double OverMargin(double logValue, double gamma) => gamma > 0 ? logValue - 2 * Math.Log(gamma) : double.PositiveInfinity;

    public static IReadOnlyList<Measure> All { get; } =
    [
        M("params", "number of parameters", "all parameters", false, NeuronWise, Weights, Capacity,
            c => c.Model.parameters().Sum(p => p.numel())),
        M("inverse-margin", "1/γ², γ = 10th percentile of (true logit − largest other logit) on the training data", "outputs", false,
            NeuronWise, Forward, MarginTerm,
            c => Margin.InverseSquared(Gamma(c))),
        M("log-prod-frobenius", "Σ_l log ‖W_l‖_F²  (log of the product of squared Frobenius norms)", "weight matrices", false,
            LayerWise, Weights, LogCapacity,
            c => Norms.LogProduct(Norms.SquaredFrobenius(c.Model))),
        M("log-sum-frobenius", "log(L·(Π_l ‖W_l‖_F²)^{1/L})", "weight matrices", false, LayerWise, Weights, LogCapacity,
            c => Norms.LogSum(Norms.SquaredFrobenius(c.Model))),
        M("log-prod-frobenius-over-margin", "log(Π_l ‖W_l‖_F² / γ²)", "weight matrices, outputs", false, LayerWise, Forward,
            LogCapacity,
            c => OverMargin(Norms.LogProduct(Norms.SquaredFrobenius(c.Model)), Gamma(c))),
        M("log-prod-spectral", "Σ_l log ‖W_l‖₂²  (conv kernels read as out × in·kh·kw)", "weight matrices", false, LayerWise,
            Weights, LogCapacity,
            c => Norms.LogProduct(Norms.SquaredSpectral(c.Model))),
        M("log-sum-spectral", "log(L·(Π_l ‖W_l‖₂²)^{1/L})", "weight matrices", false, LayerWise, Weights, LogCapacity,
            c => Norms.LogSum(Norms.SquaredSpectral(c.Model))),
        M("log-prod-spectral-over-margin", "log(Π_l ‖W_l‖₂² / γ²)", "weight matrices, outputs", false, LayerWise, Forward,
            LogCapacity,
            c => OverMargin(Norms.LogProduct(Norms.SquaredSpectral(c.Model)), Gamma(c))),
        M("frobenius-distance", "Σ_l ‖W_l − W_l⁰‖_F²  (distance from the initial weights)", "weight matrices, initial weights",
            true, None, Weights, Capacity,
            c => Norms.DistanceFromInit(c, spectral: false)),
        M("spectral-distance", "Σ_l ‖W_l − W_l⁰‖₂²", "weight matrices, initial weights", true, None, Weights, Capacity,
            c => Norms.DistanceFromInit(c, spectral: true)),
        M("parameter-norm", "‖θ‖² over all parameters", "all parameters", false, None, Weights, Capacity,
            c => Norms.ParameterNorm(c, fromInit: false)),
        M("parameter-distance", "‖θ − θ⁰‖² over all parameters", "all parameters, initial weights", true, None, Weights,
            Capacity,
            c => Norms.ParameterNorm(c, fromInit: true)),
        M("path-norm", "Σ over input/bias-to-output paths of Π w² (forward pass of squared weights on all-ones input)", "all parameters",
            false, NeuronWise, Forward, Capacity,
            c => PathNorm.Compute(c.Model, c.Data.ExampleShape)),
        M("fisher-rao", "(1/N) Σ_n ⟨θ, ∇_θ ℓ_n⟩²  (empirical Fisher–Rao norm)", "all parameters", false, NeuronWise, Gradient,
            Capacity,
            c => FisherRao.Compute(c.Model, c.Data, c.Options.ChunkSize)),
        M("pac-bayes-flatness", "1/σ², σ = largest N(0,σ²I) weight-noise scale with training-accuracy drop ≤ 0.1", "all parameters",
            false, None, Search, PacBayesKl,
            c => PacBayesFlatness.Search(c.Model, c.Data, magnitudeAware: false, c.Options, c.CancellationToken)
                .InverseSquare(c.Options.AccuracyDropTarget)),
        M("pac-bayes-mag-flatness", "1/σ², magnitude-aware: noise N(0, σ²θ_i²) per weight, drop ≤ 0.1", "all parameters", false,
            NeuronWise, Search, PacBayesKl,
            c => PacBayesFlatness.Search(c.Model, c.Data, magnitudeAware: true, c.Options, c.CancellationToken)
                .InverseSquare(c.Options.AccuracyDropTarget)),
        M("sharpness", "largest training-loss increase within ‖Δ‖₂ ≤ α = 0.05 (projected gradient ascent)", "all parameters",
            false, None, Search, LossIncrease,
            c =>
            {
                using var d = ModelParts.Head(c.Data, c.Options.SharpnessSamples);
                return WorstCaseSharpness.LossIncrease(c.Model, d, c.Options.SharpnessRadius, c.Options.AscentSteps, c.Options.Seed,
                    c.Options.ChunkSize, c.CancellationToken);
            }),
        M("sharpness-radius", "1/α², α = radius at which the ascent raises the training loss by 0.1", "all parameters", false, None,
            Search, SharpnessKl,
            c =>
            {
                using var d = ModelParts.Head(c.Data, c.Options.SharpnessSamples);
                return 1 / Math.Pow(WorstCaseSharpness.RadiusAt(c.Model, d, c.Options.SharpnessLossTarget, c.Options.AscentSteps,
                    c.Options.SharpnessBisectionSteps, c.Options.Seed, c.Options.ChunkSize, c.CancellationToken).Radius, 2);
            }),
        M("hessian-trace-all",
            "Tr(H), H the Hessian of the training loss by all parameters (exact, from the diagonal, up to maxProbes of " +
            "them; else Hutchinson)",
            "all parameters", false, None, CostClass.Curvature, CurvatureTerm,
            c => CurvatureMeasures.Trace(c, headOnly: false)),
        M("hessian-trace-head", "Tr(H) by the head's weight and bias (exact, closed form)", "head weight and bias", false, None,
            CostClass.Curvature, CurvatureTerm,
            c => CurvatureMeasures.Trace(c, headOnly: true)),
        M("lambda-max-all", "largest Hessian eigenvalue by all parameters (Lanczos)", "all parameters", false, None,
            CostClass.Curvature, CurvatureTerm,
            c => CurvatureMeasures.LambdaMax(c, headOnly: false)),
        M("lambda-max-head", "largest Hessian eigenvalue by the head's weight and bias (Lanczos)", "head weight and bias", false, None,
            CostClass.Curvature, CurvatureTerm,
            c => CurvatureMeasures.LambdaMax(c, headOnly: true)),
        M("relative-flatness",
            "κ_Tr = Σ_{s,t}⟨W_s,W_t⟩Tr(H_{s,t}) of a layer's weight: the head's (closed form) in sweeps and by " +
            "default in 'basin geometry'",
            "layer weight, features", false, LayerWise, Forward, RelativeFlatnessTerm,
            c => CurvatureMeasures.RelativeFlatnessOfHead(c, normalizeFeatures: false), MeasureScope.Model | MeasureScope.Layer),
        M("relative-flatness-normalized", "κ_Tr of the head with features normalized to unit standard deviation", "head, features", false,
            NeuronWise, Forward, RelativeFlatnessTerm,
            c => CurvatureMeasures.RelativeFlatnessOfHead(c, normalizeFeatures: true)),
        M("gradient-noise", "Tr Cov of per-example gradients = mean ‖g_n‖² − ‖ḡ‖²", "all parameters", false, None, Gradient,
            GradientStatistic,
            c =>
            {
                using var d = ModelParts.Head(c.Data, c.Options.GradientSamples);
                return GradientStatistics.Compute(c.Model, d, c.Options.CoherenceGroup, c.CancellationToken).Noise;
            }),
        M("m-coherence", "‖Σ_G g_n‖² / Σ_G ‖g_n‖² over groups G of m = 64 examples", "all parameters", false, None, Gradient,
            GradientStatistic,
            c =>
            {
                using var d = ModelParts.Head(c.Data, c.Options.GradientSamples);
                return GradientStatistics.Compute(c.Model, d, c.Options.CoherenceGroup, c.CancellationToken).MCoherence;
            }),
        M("steps-to-loss", "updates until the training loss first reached the target (from the run's metrics)", "training curve", false,
            NeuronWise, Weights, Speed,
            c => OptimizationSpeed.StepsToLoss(c.Curve, c.Options.StepsTargetLoss)),
    ];

    /// <summary>The names of <see cref="All"/>: the measures with one number per model.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToArray();

    static MeasureFacts L(string name, string definition, Invariance invariance = None, CostClass cost = CostClass.Curvature) =>
        new(name, definition, "layer weight (all parameters on the row 'all')", false, invariance, cost, SizeScaling.None,
            "per layer: not a bound term of the sweeps") { Scope = MeasureScope.Layer };

    /// <summary>
    /// The measures only 'basin geometry' computes, per layer by the layer's weight W (bias not included; the row 'all'
    /// of --layer all: by all parameters), in the order it computes them after relative-flatness.
    /// </summary>
    static readonly MeasureFacts[] LayerOnly =
    [
        L("hessian-trace-weight",
            "Tr(H) by the layer's weight: closed form for the head, the exact diagonal for at most maxProbes weights, else Hutchinson"),
        L("top-eigenvalues-weight", "the k largest Hessian eigenvalues by the layer's weight (Lanczos); the first is its λ_max"),
        L("density", "spectral density of the Hessian by the layer's weight (stochastic Lanczos quadrature), drawn to a PNG"),
        L("gauss-newton-top", "the k largest eigenvalues of the Gauss–Newton matrix by the layer's weight (Lanczos)"),
        L("outliers", "eigenvalues above the bulk among the top max(k, 3·classes) Hessian eigenvalues by the layer's weight"),
        L("feature-robustness",
            "loss change under random orthogonal perturbations of size δ of the layer's input features, beside δ²κ/(2m)", cost: Search),
    ];

    /// <summary>Every measure name once, with its facts: the per-model measures, then the per-layer-only ones.</summary>
    public static IReadOnlyList<MeasureFacts> Catalog { get; } = All.Select(m => m.Facts).Concat(LayerOnly).ToArray();

    /// <summary>The names computed in <paramref name="scope"/>, in catalog order.</summary>
    public static IReadOnlyList<string> NamesIn(MeasureScope scope) =>
        Catalog.Where(f => (f.Scope & scope) != 0).Select(f => f.Name).ToArray();

    /// <summary>Names renamed for issue 11 (one name, one quantity); the old name is accepted in its scope for one release.</summary>
    public static IReadOnlyList<MeasureRename> Renamed { get; } =
    [
        new("hessian-trace", "hessian-trace-all", MeasureScope.Model),
        new("lambda-max", "lambda-max-all", MeasureScope.Model),
        new("hessian-trace", "hessian-trace-weight", MeasureScope.Layer),
        new("top-eigen", "top-eigenvalues-weight", MeasureScope.Layer),
    ];

    /// <summary>
    /// The current name of a per-model measure name as stored in a run database or sweep file (old names and their NAME@m
    /// forms mapped, anything else unchanged).
    /// </summary>
    public static string CurrentName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var suffix = name.EndsWith(SizeAdjustment.Suffix, StringComparison.Ordinal) ? SizeAdjustment.Suffix : "";
        var stem = name[..^suffix.Length];
        return Rename(stem, MeasureScope.Model) is { } rename ? rename.NewName + suffix : name;
    }

    static MeasureRename? Rename(string oldName, MeasureScope scope) =>
        Renamed.FirstOrDefault(r => r.Scope == scope && string.Equals(r.OldName, oldName, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The measure names a list gives for <paramref name="scope"/>: "all" (every one), or names separated by commas; old
    /// names are mapped to the current ones, each with a one-line note added to <paramref name="notes"/>; duplicates are
    /// dropped, the order kept. Unknown names, and names of the other scope, throw <see cref="OptionException"/>.
    /// </summary>
    public static IReadOnlyList<string> Resolve(IEnumerable<string> names, MeasureScope scope, ICollection<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (scope is not (MeasureScope.Model or MeasureScope.Layer)) throw new ArgumentOutOfRangeException(nameof(scope), "one scope");
        var known = NamesIn(scope);
        var list = names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (list.Count == 0)
        {
            var choices = string.Join(", ", known);
            throw new OptionException("measures", $"no measures named (use 'all' or names from 'basin measures': {choices})");
        }
        if (list.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase))) return known;
        var resolved = new List<string>();
        foreach (var name in list)
        {
            var current = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
            if (current is null && Rename(name, scope) is { } rename)
            {
                current = rename.NewName;
                notes?.Add($"measure '{rename.OldName}' is renamed '{rename.NewName}' (the same quantity); the old name " +
                    "goes in the next release");
            }
            if (current is null)
            {
                var where = (scope == MeasureScope.Layer ? "per-layer measures of 'basin geometry': "
                    : "measures with one number per model: ") + string.Join(", ", known);
                if (Catalog.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)) is { } other)
                    throw new OptionException("measures", scope == MeasureScope.Layer
                        ? $"measure '{other.Name}' is one number per model (sweep files, 'basin sweep', 'basin tightness'), not per layer;"
                            + $" {where}"
                        : $"measure '{other.Name}' is per layer ('basin geometry'), not one number per model; {where}");
                throw new OptionException("measures", $"unknown measure '{name}' (see 'basin measures'; {where})");
            }
            if (!resolved.Contains(current)) resolved.Add(current);
        }
        return resolved;
    }

    static readonly (SizeScaling, string) PacBayesBoundTerm = (SizeScaling.SquareRoot, "a PAC-Bayes bound term, " +
        "adjusted as in Jiang et al.");

    static DerivedMeasure PacBayes(string name, string reference, string distance, bool init) =>
        new(new MeasureFacts(name, $"‖θ − {reference}‖²/(4σ²) + log(m/σ) + 10, σ of pac-bayes-flatness, m training " +
                "examples (Jiang et al.)",
                $"pac-bayes-flatness, {distance}, training-set size", init, None, Search, PacBayesBoundTerm.Item1, PacBayesBoundTerm.Item2),
            ["pac-bayes-flatness", distance], (v, m) => PacBayesBound.FromFlatness(v(distance), v("pac-bayes-flatness"), m));

    static readonly DerivedMeasure[] Bounds =
    [
        PacBayes("pac-bayes-bound-init", "θ⁰", "parameter-distance", init: true),
        PacBayes("pac-bayes-bound-origin", "0", "parameter-norm", init: false),
    ];

    /// <summary>
    /// Measures a sweep report derives from stored values and each model's training-set size: the PAC-Bayes bounds, then
    /// NAME@m for every measure (and bound) whose <see cref="MeasureFacts.Scaling"/> is not None, in registry order.
    /// </summary>
    public static IReadOnlyList<DerivedMeasure> Derived { get; } =
        Bounds.Concat(All.Select(m => m.Facts).Concat(Bounds.Select(b => b.Facts))
            .Where(f => f.Scaling != SizeScaling.None).Select(SizeAdjustment.Adjusted)).ToArray();

    /// <summary>The facts of a computed or derived measure.</summary>
    public static MeasureFacts FactsOf(string name) =>
        Catalog.Concat(Derived.Select(d => d.Facts))
            .FirstOrDefault(f => string.Equals(f.Name, CurrentName(name), StringComparison.OrdinalIgnoreCase))
        ?? throw new BasinException($"unknown measure '{name}' (see 'basin measures')");

    /// <summary>
    /// The stored values with every derived measure whose inputs are there added, for a model with <paramref name="m"/>
    /// training examples (NaN when unknown: the derived values are NaN then). Values stored under an old name are
    /// returned under the current one (a value under the current name wins).
    /// </summary>
    public static IReadOnlyDictionary<string, double> WithDerived(IReadOnlyDictionary<string, double> stored, double m)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var values = new Dictionary<string, double>();
        foreach (var (name, value) in stored.OrderBy(kv => CurrentName(kv.Key) == kv.Key))   // current names last: they win
            values[CurrentName(name)] = value;
        foreach (var d in Derived)
            if (!values.ContainsKey(d.Name) && d.Compute(values, m) is { } v) values[d.Name] = v;
        return values;
    }

    /// <summary>The per-model measure of this name (an old name gives the measure it was renamed to).</summary>
    public static Measure Get(string name)
    {
        var names = Resolve([name], MeasureScope.Model);
        if (names.Count != 1) throw new OptionException("measures", $"'{name}' names {names.Count} measures; give one name");
        return All.First(m => m.Name == names[0]);
    }

    /// <summary>
    /// Per-model measures named in a list ("all", or names separated by commas; see <see cref="Resolve"/>, whose notes on
    /// old names go to <paramref name="notes"/>); duplicates are dropped, the order kept.
    /// </summary>
    public static IReadOnlyList<Measure> Select(IEnumerable<string> names, ICollection<string>? notes = null) =>
        Resolve(names, MeasureScope.Model, notes).Select(n => All.First(m => m.Name == n)).ToArray();
}
