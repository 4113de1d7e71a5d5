using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.IO;
using TorchSharp;
using System.Text.Json;
using Basin.Data;
using Basin.Models;

namespace Basin.Experiments.Training;

/// <summary>
/// Where saved weights come from and what they belong to: a recorded run (its weights file, model spec, data set
/// and data folder) or a safetensors file (model spec from --model or the file's "basin.spec" metadata).
/// Shared by every job that works on saved weights (eval, measure, reparametrize).
/// </summary>
public sealed record ModelSource(string WeightsPath, string Model, string Dataset, string? DataPath, TrainJobSpec? Run)
{
    /// <param name="weightsPath">A safetensors file; or null to use <paramref name="runId"/>'s weights.</param>
    /// <param name="modelSpec">The model the weights belong to; read from the run or the file's "basin.spec" metadata when null.</param>
    /// <param name="dataset">Data set name; the run's, else fashion-mnist, when null.</param>
    public static ModelSource Resolve(string? runId, RunStore? store, string? weightsPath, string? modelSpec, string? dataset,
        string? dataPath)
    {
        if ((runId is null) == (weightsPath is null)) throw new BasinException("give either a run id (--run) or a " +
            "weights file (--weights)");
        TrainJobSpec? run = null;
        if (runId is not null)
        {
            if (store is null) throw new BasinException("a run database is needed to use a run's weights");
            var details = store.Get(runId);
            // A prune run holds a pruned network's weights and, under "train", the training it ran.
            var config = details.Summary.Kind switch
            {
                "train" => details.Config,
                Pruning.PruneJob.Kind when details.Config.TryGetProperty("train", out var t) => t,
                _ => throw new BasinException($"run {details.Summary.Id} is a {details.Summary.Kind} run; eval, measure and " +
                    "reparametrize work on the weights of a training or prune run ('basin train', 'basin prune')"),
            };
            run = TrainJobSpec.FromStored(config, details.Summary.Id);
            weightsPath = Path.Combine(store.RunFolder(details.Summary.Id), TrainingJob.WeightsFile);
            if (!File.Exists(weightsPath)) throw new BasinException($"run {details.Summary.Id} has no saved weights (status " +
                $"{details.Summary.Status}); finish it with 'basin train --resume {details.Summary.Id}'");
            modelSpec ??= run.Model;
            dataset ??= run.Dataset;
            dataPath ??= run.DataPath;
        }
        if (!File.Exists(weightsPath)) throw new BasinException($"weights file not found: {weightsPath}");
        if (modelSpec is null)
        {
            using var file = SafeTensors.Load(weightsPath!);
            modelSpec = file.Metadata.TryGetValue("basin.spec", out var s) ? s
                : throw new BasinException($"{weightsPath} does not say which model it holds; pass --model (e.g. --model lenet5)");
        }
        return new ModelSource(Path.GetFullPath(weightsPath!), modelSpec, dataset ?? "fashion-mnist", dataPath, run);
    }

    /// <summary>The folder of the run the weights came from, or null for a plain weights file.</summary>
    public string? RunFolder => Run is null ? null : Path.GetDirectoryName(WeightsPath);

    /// <summary>
    /// The first <paramref name="samples"/> examples (all when null) of <paramref name="split"/> of the data set; only that
    /// split is read. With <paramref name="atMost"/>, a split smaller than <paramref name="samples"/> is used whole.
    /// </summary>
    public LabeledDataset LoadData(Split split, long? samples, bool atMost = false)
    {
        if (samples is < 1) throw new BasinException($"--samples must be at least 1, got {samples}");
        var name = Dataset.ToLowerInvariant();
        if (ImageDatasets.Names.Contains(name))
        {
            if (atMost && samples is long n)
            {
                // The labels file is small: read it to know the split's size before converting images.
                var labels = IdxFileNames.Find(ImageDatasets.Locate(name, DataPath), IdxFileNames.Labels(split));
                if (labels is not null) samples = Math.Min(n, IdxReader.Read(labels).Count);
            }
            return ImageDatasets.Load(name, split, DataPath, samples);
        }
        if (DataSource.TryParse(Dataset, out var source))
        {
            var testSource = Dataset == Run?.Dataset && Run.TestData is { } t ? DataSource.Parse(t) : null;
            var (trainSet, testSet) = DataSource.Load(source, testSource, null, null);
            var (kept, other) = split == Split.Train ? (trainSet, testSet) : (testSet, trainSet);
            other.Dispose();
            if (samples is not long k || (atMost && k >= kept.Count)) return kept;
            using (kept) return kept.Take(k);
        }
        var spec = new TrainJobSpec { Dataset = Dataset, DataPath = DataPath, Samples = split == Split.Train ? samples : 1,
            TestSamples = split == Split.Test ? samples : 1, Seed = Run?.Seed ?? 1 };
        var (train, test) = TrainingJob.LoadData(spec);
        if (split == Split.Train) { test.Dispose(); return train; }
        train.Dispose();
        return test;
    }

    /// <summary>The model, built for <paramref name="data"/>'s example shape and classes, with the saved weights loaded (NaN or infinite
    /// weights are refused).</summary>
    /// <param name="float64">Build the model in float64 before loading, so float64 weights keep every bit (float32 ones are widened
    /// exactly).</param>
    public Classifier LoadModel(LabeledDataset data, bool float64 = false)
    {
        // A small file naming a huge model is refused before the model is allocated: every parameter takes a byte at least.
        long parameters = ModelSpec.ParameterCount(Model, data.ExampleShape, data.ClassCount);
        long length = BoundedFile.CheckedLength(WeightsPath, long.MaxValue, "safetensors file");
        if (length < parameters)
            throw new BasinException($"{WeightsPath} does not fit model '{Model}': it holds {length:N0} bytes, too few for the " +
                $"{parameters:N0} parameters of that model");
        var model = ModelSpec.Create(Model, data.ExampleShape, data.ClassCount, seed: 0);
        try
        {
            if (float64) model.to(TorchSharp.torch.ScalarType.Float64);
            Weights.Load(model, WeightsPath);
            foreach (var (name, p) in model.named_parameters())
            {
                using var finite = p.isfinite().all();
                if (!finite.item<bool>())
                    throw new BasinException($"{WeightsPath}: '{name}' holds NaN or infinite values; these weights are not a usable " +
                        "model (did the run diverge?)");
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
