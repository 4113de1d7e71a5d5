using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Training;
using Spectre.Console;

namespace Basin.Cli;

/// <summary>
/// Renders training progress: Spectre.Console progress bars for epochs and batches on a terminal,
/// one line per epoch when output is redirected, and nothing at all with --json (stdout is data then).
/// </summary>
public static class TrainingView
{
    public static T Run<T>(bool json, string title, int epochs, Func<IProgress<TrainingEvent>, T> work, string rateLabel = "lr")
    {
        if (json) return work(new Sink(_ => { }));
        if (!Cli.Interactive(json)) return work(new Sink(e => PlainLine(title, epochs, e, rateLabel)));

        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
            new SpinnerColumn())
            .Start(ctx =>
            {
                var epochTask = ctx.AddTask($"{Markup.Escape(title)}: epochs", maxValue: epochs);
                var batchTask = ctx.AddTask("batches", maxValue: 1);
                result = work(new Sink(e =>
                {
                    switch (e)
                    {
                        case RunStarted s:
                            AnsiConsole.MarkupLine($"[grey]{(s.Resumed ? "resuming" : "run")} {s.RunId} ({Markup.Escape(s.RunFolder)})[/]");
                            break;
                        case Resumed r:
                            epochTask.Value = r.Epoch - 1;
                            break;
                        case BatchDone b:
                            batchTask.MaxValue = b.Of;
                            batchTask.Value = b.Batch;
                            batchTask.Description = $"epoch {b.Epoch} batch {b.Batch}/{b.Of} loss {b.Loss:F4}";
                            break;
                        case EpochDone d:
                            epochTask.Value = d.Metrics.Epoch;
                            AnsiConsole.MarkupLine(Markup.Escape(EpochLine(title, epochs, d.Metrics, rateLabel)));
                            break;
                    }
                }));
                epochTask.Value = epochTask.MaxValue;
                batchTask.Value = batchTask.MaxValue;
            });
        return result;
    }

    static void PlainLine(string title, int epochs, TrainingEvent e, string rateLabel)
    {
        switch (e)
        {
            case RunStarted s:
                Console.WriteLine($"{title}: {(s.Resumed ? "resuming" : "run")} {s.RunId}");
                break;
            case EpochDone d:
                Console.WriteLine(EpochLine(title, epochs, d.Metrics, rateLabel));
                break;
        }
    }

    /// <summary>One epoch as a line; <paramref name="rateLabel"/> names the rate the update used (SGLD's is a derived step size).</summary>
    public static string EpochLine(string title, int epochs, EpochMetrics m, string rateLabel = "lr")
    {
        var inv = CultureInfo.InvariantCulture;
        var line = $"{title}: epoch {m.Epoch}/{epochs}  train loss {m.TrainLoss.ToString("F4", inv)} acc {Percent(m.TrainAccuracy)}";
        if (m.TestLoss is { } tl) line += $"  test loss {tl.ToString("F4", inv)} acc {Percent(m.TestAccuracy)}  loss gap " +
            $"{m.Gap?.ToString("F4", inv)} nats";
        return line + $"  {rateLabel} {m.LearningRate.ToString("G3", inv)}  {m.Seconds.ToString("F1", inv)} s";
    }

    // One convention for headers (docs/definitions.md, "Units and the generalization gap"): accuracies in %, the accuracy gap
    // train − test in percentage points, losses and the loss gap test − train in nats (natural-log cross-entropy).
    public const string TrainAccuracy = "train acc (%)";
    public const string TestAccuracy = "test acc (%)";
    public const string AccuracyGap = "acc gap (pp)";
    public const string TrainLoss = "train loss (nats)";
    public const string TestLoss = "test loss (nats)";
    public const string LossGap = "loss gap (nats)";

    /// <summary>A fraction as a table cell under a "(%)" or "(pp)" header: 0.8372 → "83.72"; "-" when absent.</summary>
    public static string Points(double? v) => v is { } x ? (100 * x).ToString("F2", CultureInfo.InvariantCulture) : "-";

    public static string Percent(double? v) => v is { } x ? (100 * x).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";

    /// <summary>Calls back synchronously on the training thread (System.Progress would post to the thread pool).</summary>
    sealed class Sink(Action<TrainingEvent> onEvent) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => onEvent(value);
    }
}
