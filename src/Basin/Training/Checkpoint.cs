using System.Text.Json;
using System.Text.Json.Serialization;
using Basin.IO;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>How far the epoch in progress had got when a checkpoint was written (to continue its metrics).</summary>
public sealed record EpochProgress(double ObjectiveSum, int ObjectiveCount, double Seconds, double LearningRate);

/// <summary>
/// The metadata of a checkpoint. <see cref="Epoch"/> is the 0-based epoch in progress and <see cref="Batch"/>
/// the number of its batches already done (0 at an epoch boundary); <see cref="RngState"/> is torch's CPU
/// generator state (torch.get_rng_state bytes, base64) so dropout and noise continue as if never stopped.
/// </summary>
public sealed record CheckpointInfo(
    int FormatVersion,
    int Epoch,
    int Batch,
    long Step,
    long Seed,
    long TrainCount,
    string ModelSpec,
    string Recipe,
    TrainingConfig Config,
    string RngState,
    IReadOnlyList<EpochMetrics> Metrics,
    EpochProgress Progress);

/// <summary>
/// A training checkpoint: one safetensors file with "model.&lt;name&gt;" for every state_dict entry,
/// "optim.&lt;name&gt;" for the updater's state, "term.&lt;term&gt;.&lt;name&gt;" / "grad.&lt;name&gt;" for stateful
/// objective terms and gradient procedures, and the JSON <see cref="CheckpointInfo"/> under the
/// metadata key "basin.checkpoint". Written atomically (temporary file, fsync, rename).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const int CurrentFormatVersion = 1;
    public const string MetadataKey = "basin.checkpoint";
    public const string ModelPrefix = "model.";
    public const string OptimizerPrefix = "optim.";

    static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    readonly SafeTensorsFile _file;

    Checkpoint(string path, SafeTensorsFile file, CheckpointInfo info)
    {
        Path = path;
        _file = file;
        Info = info;
    }

    public string Path { get; }
    public CheckpointInfo Info { get; }

    /// <summary>The tensors whose names start with <paramref name="prefix"/>, with the prefix removed.</summary>
    public IReadOnlyDictionary<string, Tensor> Section(string prefix)
    {
        var section = new Dictionary<string, Tensor>();
        foreach (var (name, t) in _file.Tensors)
            if (name.StartsWith(prefix, StringComparison.Ordinal)) section[name[prefix.Length..]] = t;
        return section;
    }

    public static void Save(string path, Classifier model, IEnumerable<KeyValuePair<string, Tensor>> stageState, CheckpointInfo info)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in model.state_dict()) tensors.Add(new(ModelPrefix + name, t));
        tensors.AddRange(stageState);
        var metadata = new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(info, Json) };
        SafeTensors.Save(path, tensors, metadata, checksum: true);   // resume verifies it (SafeTensors.Read)
    }

    /// <summary>Reads a checkpoint; a file that is not a Basin checkpoint is a DataFormatException.</summary>
    public static Checkpoint Load(string path)
    {
        var file = SafeTensors.Load(path);
        try
        {
            if (!file.Metadata.TryGetValue(MetadataKey, out var json))
                throw new DataFormatException($"{path}: not a Basin checkpoint (no '{MetadataKey}' metadata)");
            CheckpointInfo? info;
            try { info = JsonSerializer.Deserialize<CheckpointInfo>(json, Json); }
            catch (JsonException e) { throw new DataFormatException($"{path}: checkpoint metadata is not valid: {e.Message}"); }
            if (info is null) throw new DataFormatException($"{path}: checkpoint metadata is empty");
            if (info.FormatVersion != CurrentFormatVersion)
                throw new DataFormatException($"{path}: checkpoint format version {info.FormatVersion}, this Basin reads version " +
                    $"{CurrentFormatVersion}");
            return new Checkpoint(path, file, info);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Copies the saved model state into <paramref name="model"/> after checking every name, shape and dtype.</summary>
    /// <exception cref="DataFormatException">The checkpoint was written for another model.</exception>
    public void RestoreModel(Classifier model) =>
        Weights.CopyInto(model, Section(ModelPrefix), $"checkpoint {Path}", strict: true, exactDtypes: true);

    /// <summary>Checks that the run being resumed is the one that wrote this checkpoint.</summary>
    public void CheckContinues(TrainingConfig config, long trainCount)
    {
        var c = Info.Config;
        if (Info.Seed != config.Seed) throw new BasinException($"checkpoint {Path} was written with seed {Info.Seed}, not {config.Seed}");
        if (c.BatchSize != config.BatchSize) throw new BasinException($"checkpoint {Path} was written with batch size {c.BatchSize}, " +
            $"not {config.BatchSize}");
        if (c.Shuffle != config.Shuffle || c.DropLast != config.DropLast)
            throw new BasinException($"checkpoint {Path} was written with shuffle={c.Shuffle}, drop-last={c.DropLast}; this run has " +
                $"shuffle={config.Shuffle}, drop-last={config.DropLast}");
        if (Info.TrainCount != trainCount) throw new BasinException($"checkpoint {Path} was written for {Info.TrainCount} training " +
            $"examples, not {trainCount}");
    }

    /// <summary>torch's CPU generator state as bytes, for <see cref="CheckpointInfo.RngState"/>.</summary>
    public static string CaptureRng()
    {
        using var state = get_rng_state();
        return Convert.ToBase64String(state.data<byte>().ToArray());
    }

    public void RestoreRng()
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(Info.RngState); }
        catch (FormatException) { throw new DataFormatException($"{Path}: the saved RNG state is not base64"); }
        using var current = get_rng_state();
        if (bytes.Length != current.numel()) throw new DataFormatException($"{Path}: the saved RNG state has {bytes.Length} bytes, this " +
            $"libtorch uses {current.numel()}");
        using var state = tensor(bytes);
        set_rng_state(state);
    }

    public void Dispose() => _file.Dispose();
}
