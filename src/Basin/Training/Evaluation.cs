using Basin.Data;
using TorchSharp;
using Basin.Models;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>Mean cross-entropy and accuracy of a model on a whole data set.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, long Count);

public static class Evaluation
{
    /// <summary>Evaluates in eval mode without gradients, in batches; the model's train/eval mode is restored.</summary>
    public static EvaluationResult Evaluate(Classifier model, LabeledDataset data, int batchSize = 1000, Device? device = null)
    {
        if (batchSize < 1) throw new BasinException($"evaluation batch size must be at least 1, got {batchSize}");
        if (data.ClassCount != model.ClassCount)
            throw new BasinException($"{data.Name} has {data.ClassCount} classes but the model has {model.ClassCount}");
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double lossSum = 0;
            long correct = 0;
            for (long start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long size = Math.Min(batchSize, data.Count - start);
                var x = data.Inputs.narrow(0, start, size);
                var y = data.Labels.narrow(0, start, size);
                if (device is not null && device.type != DeviceType.CPU)
                {
                    x = x.to(device);
                    y = y.to(device);
                }
                var logits = model.forward(x);
                lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).ToDouble();
                correct += logits.argmax(1).eq(y).sum().ToInt64();
            }
            return new EvaluationResult(lossSum / data.Count, (double)correct / data.Count, data.Count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
