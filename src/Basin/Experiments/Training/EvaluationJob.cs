using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.IO;
using System.Text.Json;
using Basin.Data;
using Basin.Models;
using Basin.Training;

namespace Basin.Experiments.Training;

public sealed record EvalJobResult(string Model, string Dataset, string Split, long Count, double Loss, double Accuracy,
    string WeightsPath);

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
        if ((runId is null) == (weightsPath is null)) throw new BasinException("give either a run id (--run) or a " +
            "weights file (--weights)");
        if (samples is < 1) throw new BasinException($"--samples must be at least 1, got {samples}");
        var source = ModelSource.Resolve(runId, store, weightsPath, modelSpec, dataset, dataPath);
        using var data = source.LoadData(split, samples);
        using var model = source.LoadModel(data);
        var r = Evaluation.Evaluate(model, data, batchSize);
        if (!double.IsFinite(r.Loss))
            throw new BasinException($"{source.WeightsPath}: the weights give a {(double.IsNaN(r.Loss) ? "NaN" : "infinite")} loss on " +
                $"{data.Name} ({split.ToString().ToLowerInvariant()}); they are not a usable model");
        return new EvalJobResult(model.Spec, source.Dataset, split.ToString().ToLowerInvariant(), r.Count, r.Loss, r.Accuracy,
            source.WeightsPath);
    }
}
