using System.CommandLine;
using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin train`: one recorded training run (or the continuation of an interrupted one).</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainOptions();
        var resume = new Option<string?>("--resume") { Description = "Continue run ID from its last checkpoint (other training options " +
            "are taken from the run)" };
        var output = new Option<string?>("--out") { Description = "Also copy the trained weights to this safetensors file" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("train", """
            Train a model and record the run (config, seed, versions, per-epoch metrics) in the run database.
            Checkpoints go to RUNS/ID/checkpoint.safetensors; Ctrl+C stops after writing one, and
            'basin train --resume ID' continues exactly where the run stopped.
            Example: basin train --model lenet5 --samples 10000 --epochs 3 --seed 1
            """);
        foreach (var opt in o.All) cmd.Options.Add(opt);
        cmd.Options.Add(resume);
        cmd.Options.Add(output);
        cmd.Options.Add(json);
        cmd.Options.Add(runs);
        cmd.Options.Add(threads);
        var name = new Option<string?>("--name") { Description = "A name for the run, shown by 'basin runs show'" };
        var tags = new Option<string[]>("--tag") { Description = "A label to find the run by ('basin runs list --tag T'); repeatable" };
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Also log each epoch's loss, accuracy, gaps and " +
            "learning rate for TensorBoard into DIR/RUN-ID ('tensorboard --logdir DIR')" };
        cmd.Options.Add(name);
        cmd.Options.Add(tags);
        var histograms = new Option<bool>("--tensorboard-histograms") { Description = "With --tensorboard: also a histogram of " +
            "each parameter's weights per epoch" };
        cmd.Options.Add(tensorboard);
        cmd.Options.Add(histograms);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var resumeId = pr.GetValue(resume);
            var board = pr.GetValue(tensorboard);
            bool boardHistograms = pr.GetValue(histograms);
            TrainJobResult result;
            if (resumeId is not null)
            {
                var stored = store.Get(resumeId);
                var spec = TrainJobSpec.FromStored(stored.Config, stored.Summary.Id);
                result = TrainingView.Run(asJson, spec.Model, spec.Epochs, p => TrainingJob.Resume(resumeId, store,
                    TensorBoardLog.Wrap(board, p, boardHistograms), ct, nThreads), RateLabel(spec));
            }
            else
            {
                var spec = o.Read(pr) with { Name = pr.GetValue(name), Tags = pr.GetValue(tags) is { Length: > 0 } t ? t : null };
                foreach (var warning in MethodWarnings.For(spec)) CliWarning.Write(warning);
                result = TrainingView.Run(asJson, spec.Model, spec.Epochs, p => TrainingJob.Run(spec, store,
                    TensorBoardLog.Wrap(board, p, boardHistograms), ct, nThreads), RateLabel(spec));
            }
            if (pr.GetValue(output) is { } outPath) File.Copy(result.WeightsPath, outPath, overwrite: true);
            if (asJson) Console.WriteLine(Json.Serialize(new { result.RunId, result.RunFolder, result.WeightsPath, result.Model,
                result.Dataset, result.Figures, Epochs = result.Training.Epochs }));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Render(TrainJobResult r)
    {
        var f = r.Figures;
        var t = new Table().AddColumns("run", "model", "data", TrainingView.TrainLoss, TrainingView.TrainAccuracy, TrainingView.TestLoss,
            TrainingView.TestAccuracy, TrainingView.LossGap, TrainingView.AccuracyGap, "epochs", "stop");
        t.AddRow(r.RunId, Markup.Escape(r.Model), Markup.Escape(r.Dataset), f.TrainLoss.ToString("F4"),
            TrainingView.Points(f.TrainAccuracy), f.TestLoss?.ToString("F4") ?? "-", TrainingView.Points(f.TestAccuracy),
            f.Gap?.ToString("F4") ?? "-", TrainingView.Points(f.AccuracyGap), f.Epochs.ToString(), f.StopReason);
        AnsiConsole.Write(t);
        if (f.Method?.Ensemble is { } e)
        {
            AnsiConsole.MarkupLine($"posterior-predictive ensemble of {e.Samples} SGLD samples on the test set: log-loss " +
                $"{e.EnsembleLogLoss:F4} " +
                $"(members {e.MemberLogLoss:F4}), accuracy {TrainingView.Percent(e.EnsembleAccuracy)} (members " +
                $"{TrainingView.Percent(e.MemberAccuracy)})");
            if (e.FlatnessWeightTau is { } tau)
                AnsiConsole.MarkupLine($"Kendall τ between a sample's relative flatness and its mixture weight: {tau:+0.00;-0.00;0.00} " +
                    "(negative: flatter samples weigh more; per sample in " +
                    $"{Markup.Escape(Path.Combine(r.RunFolder, TrainingJob.EnsembleFlatnessFile))})");
            if (e.SampleOrderWeightTau is { } order)
                AnsiConsole.MarkupLine("Kendall τ between a sample's position in the chain and its mixture weight: " +
                    $"{order:+0.00;-0.00;0.00} (far from 0: the chain had not settled)");
        }
        if (f.Method?.FinalCoherence is { } coherence) AnsiConsole.MarkupLine($"last logged m-coherence: {coherence:F3}");
        AnsiConsole.MarkupLine($"weights: {Markup.Escape(r.WeightsPath)}");
    }

    /// <summary>SGLD steps with 2·lr/N, not the --lr the user gave: the progress line says so.</summary>
    static string RateLabel(TrainJobSpec spec) =>
        spec.Method.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries).Contains("sgld") ? "SGLD step (2·lr/N)" : "lr";
}
