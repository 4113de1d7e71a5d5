using Basin.Curvature;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>The versions of relative flatness ("Relative Flatness and Generalization", NeurIPS 2021).</summary>
public enum FlatnessVariant
{
    /// <summary>κ_Tr exactly, by the softmax cross-entropy closed form (head only): one forward pass.</summary>
    ClosedForm,
    /// <summary>κ_Tr exactly for any loss, from the layer's full Hessian (d·m products): small layers.</summary>
    Block,
    /// <summary>κ_Tr by the unbiased rank-one estimator ⟨V,HV⟩, V = (Wδ)εᵀ, with a standard error.</summary>
    Estimator,
    /// <summary>κ_λ = Σ_s ‖W_s‖² λ_max(H_{s,s}), the neuron-wise max-eigenvalue version.</summary>
    NeuronWiseMaxEigenvalue,
    /// <summary>The older layer-wise ‖W‖_F² Tr(H)/(dm), with Tr(H) by Hutchinson.</summary>
    LayerWiseTrace,
    /// <summary>The older layer-wise ‖W‖_F² λ_max(H).</summary>
    LayerWiseMaxEigenvalue,
}

/// <summary>
/// Options of <see cref="RelativeFlatness"/>.
/// <para><see cref="Normalized"/>: divide by m (the layer's inputs per neuron). Applies to the κ_Tr variants and κ_λ;
/// the layer-wise variants carry their own normalization and ignore it.</para>
/// <para><see cref="WeightDecay"/> α: training with α‖W‖² adds 2α to every diagonal entry of the Hessian, and that is
/// what this does, in every variant: κ_Tr gains 2α·m·‖W‖_F² (2α‖W‖_F² when normalized, which is what the reference
/// code's "2α per diagonal term" matches); κ_λ and the layer-wise λ_max gain 2α·‖W‖_F²; Tr(H)/(dm) gains 2α.
/// With feature normalization the 2α is added in the normalized coordinates.</para>
/// <para><see cref="NormalizeFeatures"/>: the paper's normalization (§1d): with σ_j the standard deviation
/// (population, over the data, and for a conv layer over positions too) of input feature j, measure in the
/// coordinates φ'_j = φ_j/σ_j, W'_{·j} = σ_j W_{·j} (the function is unchanged; features with σ_j = 0 are left as
/// they are). Implemented as that change of coordinates, H' = D⁻¹HD⁻¹ with D = diag(σ) on the input index, so it
/// works for any activation; for ReLU networks it equals dividing row j and bias j of the previous layer by σ_j.
/// A feature that is constant on the data (σ_j = 0, e.g. a dead ReLU unit) keeps its column of W as it is (the
/// reference computation's convention), so rescaling such a unit still changes κ; with <see cref="FoldConstantFeatures"/>
/// it is folded instead: its column leaves ⟨W_s, W_t⟩ (its contribution W_{·j}·c_j is the same for every example, i.e.
/// belongs in the bias), and κ is invariant. 'basin measure --normalize-features' and the sweep's feature-normalized
/// measure both fold.</para>
/// </summary>
public sealed record FlatnessOptions
{
    public bool Normalized { get; init; }
    public double WeightDecay { get; init; }
    public bool NormalizeFeatures { get; init; }
    /// <summary>With <see cref="NormalizeFeatures"/>: leave features constant on the data out of ⟨W_s, W_t⟩ (fold them into the
    /// bias).</summary>
    public bool FoldConstantFeatures { get; init; }
    public int ChunkSize { get; init; } = 1000;

    /// <summary>(logits, labels) → chunk mean loss; null is cross-entropy. The closed form needs cross-entropy.</summary>
    public Func<Tensor, Tensor, Tensor>? Loss { get; init; }

    /// <summary>Estimator and Hutchinson: stop once SE ≤ this·|mean|.</summary>
    public double RelativeStandardError { get; init; } = 0.02;
    public int MinSamples { get; init; } = 10;
    public int MaxSamples { get; init; } = 2000;

    /// <summary>Lanczos for the λ_max variants: relative Ritz-residual tolerance and step limit.</summary>
    public double EigenTolerance { get; init; } = 1e-6;
    public int MaxLanczosSteps { get; init; } = 100;

    public long Seed { get; init; }

    internal CurvatureOptions Curvature => new() { ChunkSize = ChunkSize, Loss = Loss };
}

/// <summary>
/// A relative-flatness value. <see cref="Samples"/> is the number of data examples; estimators also give their
/// <see cref="StandardError"/> and <see cref="Probes"/>; <see cref="HessianVectorProducts"/> is the cost.
/// </summary>
public sealed record FlatnessResult(
    string Layer,
    FlatnessVariant Variant,
    double Value,
    long Samples,
    double? StandardError,
    int? Probes,
    long HessianVectorProducts,
    bool Normalized,
    double WeightDecay,
    bool FeaturesNormalized);
