using Basin.Data;
using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using Basin.Training.Catalog;

namespace Basin.Experiments.Training;

/// <summary>
/// Everything that defines one training run, as the user states it (CLI flags or C#).
/// Stored as the run's config in the run database, and enough to resume or repeat the run.
/// </summary>
public sealed record TrainJobSpec
{
    /// <summary>
    /// Data set: fashion-mnist, mnist, a toy 2-D set (two-moons, spirals, 8gaussians, 25gaussians, swiss-roll), or the
    /// user's own data as images:FOLDER, csv:FILE or tensors:FILE (<see cref="DataSource"/>).
    /// </summary>
    public string Dataset { get; init; } = "fashion-mnist";
    /// <summary>The test set of the user's own data, in the form of <see cref="Dataset"/> (null: held out from it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]   // absent when not given: older configs are unchanged
    public string? TestData { get; init; }
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
    /// Training method, a name from <see cref="MethodCatalog"/> or several joined by '+' (sam+fam, sgld+saf; at most one
    /// gradient procedure). Every method but sgld steps with the chosen optimizer; sgld is its own update rule.
    /// </summary>
    public string Method { get; init; } = "sgd";
    /// <summary>
    /// The settings of the methods, by their keys in the method catalog (e.g. famLambda, rho, safStart), stored flat in
    /// the run's config as before; a setting not given takes its one default from the catalog
    /// (<see cref="MethodCatalog"/>; docs/methods.md lists them). Treat as read-only: use <see cref="With"/>.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? MethodSettings { get; init; }
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
    /// <summary>A free-form name for the run (one line, at most 100 characters), shown by `runs show`.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]   // absent when not given: older configs are unchanged
    public string? Name { get; init; }
    /// <summary>Labels to find the run by (`runs list --tag T`): each one word of letters, digits, '-', '_', '.' or ':'.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Checks <see cref="Name"/> and <see cref="Tags"/>.</summary>
    public void ValidateLabels()
    {
        if (Name is { } n && (string.IsNullOrWhiteSpace(n) || n.Length > 100 || n.Any(char.IsControl)))
            throw new BasinException("--name must be one non-empty line of at most 100 characters");
        foreach (var t in Tags ?? [])
            if (t.Length is 0 or > 50 || !t.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                throw new BasinException($"tag '{t}' is not a word of letters, digits, '-', '_', '.' or ':' (at most 50)");
    }

    /// <summary>
    /// A spec from a stored run config. Runs recorded before FAM's normalization option used the unnormalized λ·κ_Tr,
    /// so a config without the field reads as "none", and edge-popup runs recorded before its scaled initialization read
    /// as unscaled: resuming, evaluating or showing such a run stays true to it.
    /// </summary>
    public static TrainJobSpec FromStored(JsonElement config, string runId)
    {
        TrainJobSpec? read;
        try { read = config.Deserialize<TrainJobSpec>(Json.Options); }
        catch (JsonException e) { throw new BasinException($"run {runId} has an unreadable config: {e.Message}"); }
        var spec = read ?? throw new BasinException($"run {runId} has no readable config");
        if (UsedUnnormalizedFamBeforeTheOption(config)) spec = spec.With("famNormalization", "none");
        // Edge-popup runs recorded before its scaled initialization existed kept the model's own.
        if (HasMethod(config, "edge-popup") && !config.TryGetProperty("popupScaled", out _)) spec = spec.With("popupScaled", false);
        return spec;
    }

    static bool HasMethod(JsonElement config, string method) =>
        config.ValueKind == JsonValueKind.Object && config.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String
        && m.GetString()!.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries).Contains(method);

    /// <summary>True for a stored config of a FAM run written before the FAM normalization option existed.</summary>
    public static bool UsedUnnormalizedFamBeforeTheOption(JsonElement config) =>
        config.ValueKind == JsonValueKind.Object && !config.TryGetProperty("famNormalization", out _)
        && config.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String
        && m.GetString()!.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries).Contains("fam");

    /// <summary>A note for a stored training config whose FAM term was the unnormalized λ·κ_Tr (recorded before the option), else
    /// null.</summary>
    public static string? FamFormNote(JsonElement config) =>
        UsedUnnormalizedFamBeforeTheOption(config)
            ? "FAM in this run is the unnormalized λ·κ_Tr (recorded before FAM's normalization option; today's default is λ·κ_Tr/m)"
            : null;

    /// <summary>This spec with one method setting given (a new dictionary; null removes the setting).</summary>
    public TrainJobSpec With(string key, object? value)
    {
        var settings = MethodSettings is null ? new Dictionary<string, JsonElement>() : new Dictionary<string, JsonElement>(MethodSettings);
        if (value is null) settings.Remove(key);
        else settings[key] = value is JsonElement e ? e.Clone() : JsonSerializer.SerializeToElement(value, Json.Options);
        return this with { MethodSettings = settings };
    }

    /// <summary>The method settings as given (empty when none).</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, JsonElement> Settings => MethodSettings ?? [];
}
