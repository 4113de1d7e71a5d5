namespace Basin.Measures;

/// <summary>Which function-preserving rescalings of a ReLU network leave a measure's value unchanged (as claimed; tests check
/// it).</summary>
public enum Invariance
{
    /// <summary>Changes under a layer-wise rescaling (one factor a for all units between two layers).</summary>
    None,
    /// <summary>Unchanged by layer-wise rescalings, changed by neuron-wise ones.</summary>
    LayerWise,
    /// <summary>Unchanged by neuron-wise rescalings (one factor per unit or channel), hence by layer-wise ones too.</summary>
    NeuronWise,
}

/// <summary>How much work a measure takes, from cheapest to dearest.</summary>
public enum CostClass
{
    /// <summary>Reads the weights (or the run's metrics) only.</summary>
    Weights,
    /// <summary>A forward pass over the measurement data.</summary>
    Forward,
    /// <summary>Gradients over the data (one or a few backward passes, or per-example gradients of a subset).</summary>
    Gradient,
    /// <summary>Many forward/backward passes: Monte Carlo over noise draws, bisection, gradient ascent.</summary>
    Search,
    /// <summary>Hessian-vector products (Hutchinson, Lanczos).</summary>
    Curvature,
}

/// <summary>
/// How a measure μ enters a generalization bound as a function of the training-set size m, following Jiang et al.
/// (2020) and their public reimplementation (Dziugaite et al. 2020), which turn every complexity measure into a bound
/// term before scoring it.
/// </summary>
public enum SizeScaling
{
    /// <summary>Not a complexity term (a loss increase, a gradient statistic, a training speed): not adjusted.</summary>
    None,
    /// <summary>A complexity term C: the bound term is √(C/m).</summary>
    SquareRoot,
    /// <summary>The logarithm of a complexity term, μ = log C: the bound term is log √(C/m) = ½(μ − log m).</summary>
    HalfLog,
}

/// <summary>Where a measure is computed: one number per model, per layer, or both (the same quantity under one name).</summary>
[Flags]
public enum MeasureScope
{
    /// <summary>One number per model: sweep files, 'basin sweep' and 'basin tightness' (--measures), the run database.</summary>
    Model = 1,
    /// <summary>Per layer (and for the whole network): 'basin geometry --measures'.</summary>
    Layer = 2,
}

/// <summary>An old measure name and the name of the same quantity now, in one scope (old names are still accepted, with a note).</summary>
public sealed record MeasureRename(string OldName, string NewName, MeasureScope Scope);

/// <summary>
/// What the registry says about a measure: its name (as used on the command line and in the run database),
/// a one-line definition, which parameters it reads, whether it needs the initial weights, its claimed
/// invariance, its cost class, how it scales with the training-set size as a bound term (and why), and where it is
/// computed. Larger values are meant to predict a larger generalization gap.
/// </summary>
public sealed record MeasureFacts(
    string Name,
    string Definition,
    string Reads,
    bool NeedsInitialWeights,
    Invariance Invariance,
    CostClass Cost,
    SizeScaling Scaling,
    string ScalingReason)
{
    public MeasureScope Scope { get; init; } = MeasureScope.Model;
}
