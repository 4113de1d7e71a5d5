using Basin.Curvature;
using Basin.Data;
using TorchSharp;
using Basin.Models;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>Mean cross-entropy and accuracy of a model on a whole data set.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, long Count);

/// <summary>
/// A model over a whole data set, chunk by chunk, without gradients: the one place that computes its logits, its
/// mean cross-entropy and its accuracy (training metrics, measures, loss surfaces and ensembles all come here).
/// </summary>
public static class Evaluation
{
    /// <summary>Evaluates in eval mode without gradients, in batches; the model's train/eval mode is restored.</summary>
    public static EvaluationResult Evaluate(Classifier model, LabeledDataset data, int batchSize = 1000, Device? device = null)
    {
        if (batchSize < 1) throw new BasinException($"evaluation batch size must be at least 1, got {batchSize}");
        if (data.ClassCount != model.ClassCount)
            throw new BasinException($"{data.Name} has {data.ClassCount} classes but the model has {model.ClassCount}");
        using var eval = new EvalMode(model);
        var chunks = data.Chunks(batchSize);
        var (lossSum, correct) = Totals(model, chunks.Count, c =>
        {
            var x = chunks[c].Inputs();
            var y = chunks[c].Labels();
            return device is not null && device.type != DeviceType.CPU ? (x.to(device), y.to(device)) : (x, y);
        });
        return new EvaluationResult(lossSum / data.Count, (double)correct / data.Count, data.Count);
    }

    /// <summary>
    /// Σ cross-entropy (chunk sums in the model's dtype, added in double) and correct predictions over the chunks that
    /// <paramref name="chunk"/> makes (inside each chunk's dispose scope); no gradients, the model's current mode.
    /// </summary>
    internal static (double LossSum, long Correct) Totals(nn.Module<Tensor, Tensor> model, int chunkCount,
        Func<int, (Tensor Inputs, Tensor Labels)> chunk)
    {
        using var _ = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int c = 0; c < chunkCount; c++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = chunk(c);
            var logits = model.forward(x);
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).ToDouble();
            correct += logits.argmax(1).eq(y).sum().ToInt64();
        }
        return (lossSum, correct);
    }

    /// <summary>
    /// Logits of every example [N, classes] in the model's dtype, in eval mode (restored afterwards), without gradients,
    /// <paramref name="chunkSize"/> examples at a time (inputs converted to the model's dtype). The caller owns the result.
    /// </summary>
    public static Tensor Logits(Classifier model, LabeledDataset data, int chunkSize)
    {
        using var eval = new EvalMode(model);
        using var noGrad = no_grad();
        var dtype = model.parameters().First().dtype;
        var parts = new List<Tensor>();
        foreach (var chunk in data.Chunks(chunkSize))
        {
            using var x = chunk.Inputs(dtype);
            parts.Add(model.forward(x));
        }
        var all = cat(parts.ToArray());
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>Fraction of examples the model classifies correctly (from <see cref="Logits"/>).</summary>
    public static double Accuracy(Classifier model, LabeledDataset data, int chunkSize)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(model, data, chunkSize);
        return logits.argmax(1).eq(data.Labels).to_type(ScalarType.Float64).mean().ToDouble();
    }
}
