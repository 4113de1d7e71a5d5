using Basin.Data;
using Basin.Native;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Symbolic;

/// <summary>The paper's schedule: Adam (lr 1e-3), batch 8, 16 epochs, the plateau scheduler stepped on every batch's loss.</summary>
public sealed record FewShotSchedule
{
    public double LearningRate { get; init => field = Basin.Check.Positive(value, nameof(LearningRate)); } = 1e-3;
    public int BatchSize { get; init => field = Basin.Check.AtLeast(value, 1, nameof(BatchSize)); } = 8;
    public int Epochs { get; init => field = Basin.Check.AtLeast(value, 1, nameof(Epochs)); } = 16;

    /// <summary>Step the plateau scheduler on every batch's loss, as the paper does; false keeps the rate constant.</summary>
    public bool Plateau { get; init; } = true;
}

/// <summary>Accuracy (threshold 0.5 on the sigmoid) on the training and evaluation sets after training.</summary>
public sealed record FewShotResult(double TrainAccuracy, double EvalAccuracy, double FinalLearningRate);

/// <summary>Trains a <see cref="FewShotNetwork"/> with binary cross-entropy on logits, as the G-SSNN paper does.</summary>
public static class FewShotTraining
{
    public static FewShotResult Train(FewShotNetwork model, LabeledDataset train, LabeledDataset eval, FewShotSchedule schedule, long seed,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (train.Count == 0) throw new BasinException("no training examples");
        var parameters = NamedParameter.Of(model);
        using var updater = new Adam().Bind(parameters);
        var plateau = new ReduceOnPlateau(schedule.LearningRate);
        double lr = schedule.LearningRate;
        var random = new Random(unchecked((int)seed));
        model.train();
        for (int epoch = 0; epoch < schedule.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, (int)train.Count).OrderBy(_ => random.Next()).Select(i => (long)i).ToArray();
            for (int start = 0; start < order.Length; start += schedule.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var index = torch.tensor(order[start..Math.Min(order.Length, start + schedule.BatchSize)]);
                var x = train.Inputs.index_select(0, index);
                var y = train.Labels.index_select(0, index).to_type(ScalarType.Float32);
                foreach (var p in parameters) p.Value.grad?.zero_();
                var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), y);
                double value = loss.item<float>();
                if (!double.IsFinite(value)) throw new BasinException($"the training loss became {value} in epoch {epoch + 1}");
                loss.backward();
                updater.Apply(lr);
                if (schedule.Plateau) lr = plateau.Step(value);
            }
        }
        return new FewShotResult(Accuracy(model, train), Accuracy(model, eval), lr);
    }

    /// <summary>The fraction of examples whose logit has the sign of the label (logit ≥ 0 means 1).</summary>
    public static double Accuracy(FewShotNetwork model, LabeledDataset data)
    {
        using var noGrad = torch.no_grad();
        model.eval();
        long correct = 0;
        foreach (var chunk in data.Chunks(500))
        {
            using var scope = torch.NewDisposeScope();
            var predicted = model.forward(chunk.Inputs()).ge(torch.zeros(1)).to_type(ScalarType.Int64);
            correct += predicted.eq(chunk.Labels()).sum().item<long>();
        }
        model.train();
        return (double)correct / data.Count;
    }
}
