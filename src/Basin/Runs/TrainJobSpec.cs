using System.Text.Json;
using Basin.Reports;
using Basin.Training.Methods;

namespace Basin.Runs;

/// <summary>
/// Everything that defines one training run, as the user states it (CLI flags or C#).
/// Stored as the run's config in the run database, and enough to resume or repeat the run.
/// </summary>
public sealed record TrainJobSpec
{
    /// <summary>Data set name: fashion-mnist, mnist, or a toy 2-D set (two-moons, spirals, 8gaussians, 25gaussians, swiss-roll).</summary>
    public string Dataset { get; init; } = "fashion-mnist";
    /// <summary>Folder holding the IDX files (else $BASIN_DATA, the Debian package, the user cache).</summary>
    public string? DataPath { get; init; }
    /// <summary>Training examples: the first N in file order (null = all).</summary>
    public long? Samples { get; init; }
    /// <summary>Test examples: the first N of the test split (null = all).</summary>
    public long? TestSamples { get; init; }
    /// <summary>Fraction of training examples given a different, random label.</summary>
    public double LabelNoise { get; init; }

    /// <summary>Model spec, e.g. lenet5, mlp:512,512, resnet:2.</summary>
    public string Model { get; init; } = "lenet5";

    public string Optimizer { get; init; } = "sgd";
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    /// <summary>constant, step, or cosine.</summary>
    public string Schedule { get; init; } = "constant";
    public int StepEpochs { get; init; } = 10;
    public double StepGamma { get; init; } = 0.1;
    public int WarmupSteps { get; init; }

    /// <summary>
    /// Training method (docs/methods.md): sgd (plain; the optimizer option applies), sam, asam, fam, saf, mesa,
    /// sgld, winsorized, m3, rm3, or several joined by '+' (sam+fam, sgld+saf; at most one of sam, asam, winsorized,
    /// m3, rm3). Every method but sgld steps with the chosen optimizer; sgld is its own update rule.
    /// </summary>
    public string Method { get; init; } = "sgd";
    /// <summary>SAM/ASAM neighbourhood radius ρ (null: 0.05 for SAM, 0.5 for ASAM).</summary>
    public double? Rho { get; init; }
    /// <summary>ASAM's η in T_w = |w| + η.</summary>
    public double Eta { get; init; } = 0.01;
    /// <summary>FAM's λ: the weight of κ_Tr/m (or of κ_Tr when <see cref="FamNormalization"/> is "none").</summary>
    public double FamLambda { get; init; } = Fam.DefaultLambda;
    /// <summary>
    /// FAM's normalization: "layer-inputs" (λ·κ_Tr/m, the paper's form) or "none" (λ·κ_Tr). Configs stored before the
    /// option existed read as "none" (see <see cref="FromStored"/>), which is what those runs used.
    /// </summary>
    public string FamNormalization { get; init; } = FamNormalizations.Names[0];
    /// <summary>FAM's layer (null: the head). A non-head linear layer uses the rank-one estimator.</summary>
    public string? FamLayer { get; init; }
    /// <summary>FAM with the reference code's detached curvature (gradient only through ⟨W_s, W_t⟩).</summary>
    public bool FamDetached { get; init; }
    /// <summary>Rank-one probes per step for a non-head FAM layer.</summary>
    public int FamProbes { get; init; } = 1;
    /// <summary>SAF/MESA trajectory-loss weight λ (null: 0.3 for SAF, 0.8 for MESA).</summary>
    public double? SafLambda { get; init; }
    /// <summary>SAF/MESA temperature τ.</summary>
    public double SafTau { get; init; } = 5;
    /// <summary>SAF's lag Ẽ in epochs.</summary>
    public int SafLag { get; init; } = 2;
    /// <summary>First epoch (0-based) with the trajectory loss (null: ⌊0.3·epochs⌋).</summary>
    public int? SafStart { get; init; }
    /// <summary>MESA's EMA decay (null: 1 − 1/(batches per epoch), within [0.9, 0.9998], so the average spans about an epoch).</summary>
    public double? MesaDecay { get; init; }
    /// <summary>SGLD temperature T (1: the posterior; 0: gradient descent).</summary>
    public double Temperature { get; init; } = 1;
    /// <summary>SGLD burn-in in updates (null: half the run).</summary>
    public long? BurnIn { get; init; }
    /// <summary>SGLD thinning: keep every this many updates after burn-in (null: about 10 samples).</summary>
    public long? Thin { get; init; }
    /// <summary>Winsorized gradient descent's c.</summary>
    public int WinsorC { get; init; } = 1;
    /// <summary>Log the m-coherence of the batch's per-example gradients every this many steps (0: never).</summary>
    public int CoherenceEvery { get; init; }

    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 128;
    public double? StopAtTrainLoss { get; init; }
    public long Seed { get; init; } = 1;
    /// <summary>Also write a checkpoint every this many batches (0: at the end of every epoch only).</summary>
    public int CheckpointEveryBatches { get; init; }
    /// <summary>cpu (CUDA builds of libtorch are not available here; the option is kept for them).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// A spec from a stored run config. Runs recorded before FAM's normalization option used the unnormalized λ·κ_Tr,
    /// so a config without the field reads as "none": resuming, evaluating or showing such a run stays true to it.
    /// </summary>
    public static TrainJobSpec FromStored(JsonElement config, string runId)
    {
        var spec = config.Deserialize<TrainJobSpec>(Json.Options) ?? throw new BasinException($"run {runId} has no readable config");
        return UsedUnnormalizedFamBeforeTheOption(config) ? spec with { FamNormalization = "none" } : spec;
    }

    /// <summary>True for a stored config written before the FAM normalization option existed.</summary>
    public static bool UsedUnnormalizedFamBeforeTheOption(JsonElement config) =>
        config.ValueKind == JsonValueKind.Object && !config.TryGetProperty("famNormalization", out _);

    /// <summary>A note for a stored training config whose FAM term was the unnormalized λ·κ_Tr (recorded before the option), else null.</summary>
    public static string? FamFormNote(JsonElement config) =>
        UsedUnnormalizedFamBeforeTheOption(config)
        && config.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String
        && m.GetString()!.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries).Contains("fam")
            ? "FAM in this run is the unnormalized λ·κ_Tr (recorded before FAM's normalization option; today's default is λ·κ_Tr/m)"
            : null;
}
