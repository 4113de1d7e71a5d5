using Basin.Training;
using TorchSharp;

namespace Basin.Experiments.Training;

/// <summary>
/// Logs a training run for TensorBoard with TorchSharp's own SummaryWriter: each epoch's loss and accuracy (train,
/// test), both generalization gaps and the learning rate, at step = epoch, into FOLDER/RUN-ID (one event file per run,
/// and one more per resume), so several runs logged to one folder show side by side. An unmeasured or NaN figure is
/// left out.
/// </summary>
public sealed class TensorBoardLog(string folder, IProgress<TrainingEvent>? inner) : IProgress<TrainingEvent>
{
    /// <summary>The tags written, in order.</summary>
    public static readonly string[] Tags =
        ["loss/train", "loss/test", "accuracy/train", "accuracy/test", "gap/loss", "gap/accuracy", "learning_rate"];

    TorchSharp.Modules.SummaryWriter? _writer;

    /// <summary>
    /// <paramref name="inner"/> itself when <paramref name="folder"/> is null, else a log that passes every event on to it.
    /// </summary>
    public static IProgress<TrainingEvent>? Wrap(string? folder, IProgress<TrainingEvent>? inner)
    {
        if (folder is null) return inner;
        var full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new BasinException($"the TensorBoard folder {full} is a file");
        return new TensorBoardLog(full, inner);
    }

    public void Report(TrainingEvent value)
    {
        if (value is RunStarted started) _writer = torch.utils.tensorboard.SummaryWriter(Path.Combine(folder, started.RunId));
        if (value is EpochDone { Metrics: var m } && _writer is { } w)
        {
            double?[] values = [m.Evaluated ? m.TrainLoss : null, m.TestLoss, m.Evaluated ? m.TrainAccuracy : null, m.TestAccuracy, m.Gap,
                m.AccuracyGap, m.LearningRate];
            for (int i = 0; i < Tags.Length; i++)
                if (values[i] is { } v && double.IsFinite(v)) w.add_scalar(Tags[i], (float)v, m.Epoch);
        }
        inner?.Report(value);
    }
}
