using System.Text.Json;
using Basin.Data;
using Basin.IO;
using Basin.Models;
using Basin.Reports;
using Basin.Training;

namespace Basin.Runs;

public sealed record EvalJobResult(string Model, string Dataset, string Split, long Count, double Loss, double Accuracy, string WeightsPath);

/// <summary>
/// Evaluates saved weights (a recorded run's, or any safetensors file with PyTorch-style names)
/// on a data split: mean cross-entropy and accuracy.
/// </summary>
public static class EvaluationJob
{
    /// <param name="weightsPath">A safetensors file; or null to use <paramref name="runId"/>'s weights.</param>
    /// <param name="modelSpec">The model the weights belong to; read from the file's "basin.spec" metadata (or the run) when null.</param>
    public static EvalJobResult Run(string? runId, RunStore? store, string? weightsPath, string? modelSpec,
        string? dataset, Split split, string? dataPath, long? samples, int batchSize = 1000)
    {
        if ((runId is null) == (weightsPath is null)) throw new BasinException("give either a run id (--run) or a weights file (--weights)");
        if (samples is < 1) throw new BasinException($"--samples must be at least 1, got {samples}");
        if (runId is not null)
        {
            if (store is null) throw new BasinException("a run database is needed to evaluate a run");
            var run = store.Get(runId);
            var spec = run.Config.Deserialize<TrainJobSpec>(Json.Options) ?? throw new BasinException($"run {run.Summary.Id} has no readable config");
            weightsPath = Path.Combine(store.RunFolder(run.Summary.Id), TrainingJob.WeightsFile);
            if (!File.Exists(weightsPath)) throw new BasinException($"run {run.Summary.Id} has no saved weights (status {run.Summary.Status}); finish it with 'basin train --resume {run.Summary.Id}'");
            modelSpec ??= spec.Model;
            dataset ??= spec.Dataset;
            dataPath ??= spec.DataPath;
        }
        if (!File.Exists(weightsPath)) throw new BasinException($"weights file not found: {weightsPath}");
        if (modelSpec is null)
        {
            using var file = SafeTensors.Load(weightsPath!);
            modelSpec = file.Metadata.TryGetValue("basin.spec", out var s) ? s
                : throw new BasinException($"{weightsPath} does not say which model it holds; pass --model (e.g. --model lenet5)");
        }
        dataset ??= "fashion-mnist";
        var spec2 = new TrainJobSpec { Dataset = dataset, DataPath = dataPath, Samples = samples, TestSamples = samples };
        var (train, test) = TrainingJob.LoadData(spec2);
        using (train)
        using (test)
        {
            var data = split == Split.Train ? train : test;
            using var model = ModelSpec.Create(modelSpec, data.ExampleShape, data.ClassCount, seed: 0);
            Weights.Load(model, weightsPath!);
            var r = Evaluation.Evaluate(model, data, batchSize);
            return new EvalJobResult(model.Spec, dataset, split.ToString().ToLowerInvariant(), r.Count, r.Loss, r.Accuracy, Path.GetFullPath(weightsPath!));
        }
    }
}
