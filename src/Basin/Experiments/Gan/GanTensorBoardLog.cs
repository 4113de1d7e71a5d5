using Basin.Experiments.Training;
using TorchSharp;

namespace Basin.Experiments.Gan;

/// <summary>
/// Logs a GAN run for TensorBoard with TorchSharp's own SummaryWriter, at step = generator iteration, each state the
/// trainer reports (every --progress-every iterations): the critic's Wasserstein estimate, the exact W1 when it was
/// measured, the critic's and generator's losses and the penalty; into FOLDER/RUN-ID (one event file per run, and one more
/// per resume). With <paramref name="histograms"/>, also a histogram of each parameter of both networks at each
/// checkpoint (tags "weights/generator/NAME", "weights/critic/NAME"; the last iteration always writes one).
/// </summary>
public sealed class GanTensorBoardLog(string folder, IProgress<GanEvent>? inner, bool histograms = false) : IProgress<GanEvent>
{
    /// <summary>The tags written, in order (the exact W1 only where it was measured).</summary>
    public static readonly string[] Tags =
        ["wasserstein/critic_estimate", "wasserstein/exact_w1", "loss/critic", "loss/generator", "penalty"];

    TorchSharp.Modules.SummaryWriter? _writer;
    GanRunStarted? _run;

    /// <summary><paramref name="inner"/> itself when <paramref name="folder"/> is null, else a log that passes every event on to
    /// it.</summary>
    public static IProgress<GanEvent>? Wrap(string? folder, IProgress<GanEvent>? inner, bool histograms = false)
    {
        if (folder is null)
            return histograms ? throw new BasinException("--tensorboard-histograms needs --tensorboard DIR") : inner;
        return new GanTensorBoardLog(TensorBoardLog.CheckFolder(folder), inner, histograms);
    }

    public void Report(GanEvent value)
    {
        if (value is GanRunStarted started)
        {
            _writer = torch.utils.tensorboard.SummaryWriter(Path.Combine(folder, started.RunId));
            _run = started;
        }
        if (value is GanStep { Progress: var p } && _writer is { } w)
        {
            double?[] values = [p.WassersteinEstimate, p.ExactW1, p.CriticLoss, p.GeneratorLoss, p.Penalty];
            for (int i = 0; i < Tags.Length; i++)
                if (values[i] is { } v && double.IsFinite(v)) w.add_scalar(Tags[i], (float)v, p.Iteration);
            if (histograms && p.Checkpoint is not null && _run is { Generator: { } g, Critic: { } c })
            {
                WeightHistograms.Add(w, g, "weights/generator/", p.Iteration);
                WeightHistograms.Add(w, c, "weights/critic/", p.Iteration);
            }
        }
        inner?.Report(value);
    }
}
