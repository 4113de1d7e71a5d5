using Basin.Training;
using TorchSharp;

namespace Basin.Experiments.Training;

/// <summary>
/// Logs a training run for TensorBoard with TorchSharp's own SummaryWriter: each epoch's loss and accuracy (train,
/// test), both generalization gaps and the learning rate, at step = epoch, into FOLDER/RUN-ID (one event file per run,
/// and one more per resume), so several runs logged to one folder show side by side. An unmeasured or NaN figure is
/// left out. With <paramref name="histograms"/>, also a histogram of each parameter's values per epoch
/// (tag "weights/NAME"), read from the model that <see cref="RunStarted.Model"/> names.
/// </summary>
public sealed class TensorBoardLog(string folder, IProgress<TrainingEvent>? inner, bool histograms = false) : IProgress<TrainingEvent>
{
    /// <summary>The tags written, in order.</summary>
    public static readonly string[] Tags =
        ["loss/train", "loss/test", "accuracy/train", "accuracy/test", "gap/loss", "gap/accuracy", "learning_rate"];

    /// <summary>The tag prefix of the weight histograms: "weights/" + parameter name.</summary>
    public const string HistogramPrefix = "weights/";

    TorchSharp.Modules.SummaryWriter? _writer;
    torch.nn.Module? _model;

    /// <summary>
    /// <paramref name="inner"/> itself when <paramref name="folder"/> is null, else a log that passes every event on to it.
    /// </summary>
    public static IProgress<TrainingEvent>? Wrap(string? folder, IProgress<TrainingEvent>? inner, bool histograms = false)
    {
        if (folder is null)
            return histograms ? throw new BasinException("--tensorboard-histograms needs --tensorboard DIR") : inner;
        return new TensorBoardLog(CheckFolder(folder), inner, histograms);
    }

    /// <summary>The full path of a TensorBoard folder; a <see cref="BasinException"/> when it, or a folder above it, is a file.</summary>
    public static string CheckFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        for (var at = full; !string.IsNullOrEmpty(at); at = Path.GetDirectoryName(at))
            if (File.Exists(at))
                throw new BasinException($"the TensorBoard folder {full} is a file" + (at == full ? "" : $" ({at} is one)"));
        return full;
    }

    public void Report(TrainingEvent value)
    {
        if (value is RunStarted started)
        {
            _writer = torch.utils.tensorboard.SummaryWriter(Path.Combine(folder, started.RunId));
            _model = started.Model;
        }
        if (value is EpochDone { Metrics: var m } && _writer is { } w)
        {
            double?[] values = [m.Evaluated ? m.TrainLoss : null, m.TestLoss, m.Evaluated ? m.TrainAccuracy : null, m.TestAccuracy, m.Gap,
                m.AccuracyGap, m.LearningRate];
            for (int i = 0; i < Tags.Length; i++)
                if (values[i] is { } v && double.IsFinite(v)) w.add_scalar(Tags[i], (float)v, m.Epoch);
            if (histograms && _model is { } model) WeightHistograms.Add(w, model, HistogramPrefix, m.Epoch);
        }
        inner?.Report(value);
    }
}
