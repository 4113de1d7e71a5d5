using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using System.Text.Json;
using Basin.Models;

namespace Basin.Experiments.Gan;

/// <summary>
/// Loads the classifier that GAN runs are judged with (Fréchet distance on its features, confidence along latent
/// paths): a recorded train run's weights, or a safetensors file whose "basin.spec" metadata names the model.
/// </summary>
public static class GanClassifier
{
    public static Classifier Load(string runOrFile, RunStore store, long[] exampleShape, int classCount = 10)
    {
        string weights, spec;
        if (File.Exists(runOrFile))
        {
            weights = runOrFile;
            using var file = SafeTensors.Load(weights);
            spec = file.Metadata.TryGetValue("basin.spec", out var s) ? s
                : throw new BasinException($"{weights} does not say which model it holds (no basin.spec metadata); train " +
                "it with 'basin train'");
        }
        else
        {
            var run = store.Get(runOrFile);
            if (run.Summary.Kind != "train") throw new BasinException($"--classifier: run {run.Summary.Id} is a {run.Summary.Kind} run, " +
                "not a classifier training run");
            var trainSpec = TrainJobSpec.FromStored(run.Config, run.Summary.Id);
            weights = Path.Combine(store.RunFolder(run.Summary.Id), TrainingJob.WeightsFile);
            if (!File.Exists(weights)) throw new BasinException($"--classifier: run {run.Summary.Id} has no saved weights (status " +
                $"{run.Summary.Status})");
            spec = trainSpec.Model;
        }
        var model = ModelSpec.Create(spec, exampleShape, classCount, seed: 0);
        try
        {
            Weights.Load(model, weights);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
