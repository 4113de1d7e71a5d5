using System.CommandLine;
using System.Globalization;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gan train`: one recorded WGAN run.</summary>
public static class GanTrainCommand
{
    static readonly GanJobSpec D = new();

    public static Command Create()
    {
        var loop = GanLoopOptions.For(D);
        var dataset = new Option<string>("--data") { Description = "8gaussians, 25gaussians, swissroll or fashion-mnist",
            DefaultValueFactory = _ => D.Dataset };
        var dataPath = new Option<string?>("--data-path") { Description = "Folder with the Fashion-MNIST IDX files" };
        var samples = new Option<int?>("--samples") { Description = "Real samples: toy points drawn (default 10000) or the first N " +
            "Fashion-MNIST images (default all)" };
        var penalty = new Option<string>("--penalty") { Description = "lp (one-sided Lipschitz penalty), gp (gradient penalty) or " +
            "clip (weight clipping)", DefaultValueFactory = _ => D.Penalty };
        var lambda = new Option<double>("--lambda") { Description = "Penalty weight λ ≥ 0", DefaultValueFactory = _ => D.Lambda };
        var clip = new Option<double>("--clip") { Description = "Weight clipping bound c", DefaultValueFactory = _ => D.ClipValue };
        var sampling = new Option<string>("--sampling") { Description = "Penalty points: interpolates (real–fake lines) or " +
            "perturbations (of real samples)", DefaultValueFactory = _ => D.Sampling };
        var seed = new Option<long>("--seed") { Description = "Seed for data, initialization, batches and latent codes",
            DefaultValueFactory = _ => D.Seed };
        var width = new Option<int>("--width") { Description = "Conv generator/critic width w (fashion-mnist)",
            DefaultValueFactory = _ => D.Width };
        var latent = new Option<int?>("--latent") { Description = "Latent dimension (default 2 for toy data, 64 for images)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N iterations " +
            "(default: a tenth of the run)", DefaultValueFactory = _ => 0 };
        var progressEvery = new Option<int>("--progress-every") { Description = "Report and record every N iterations",
            DefaultValueFactory = _ => D.ProgressInterval };
        var evalEvery = new Option<int>("--eval-every") { Description = "Toy data: exact W1 every N iterations (default: at the end only)",
            DefaultValueFactory = _ => 0 };
        var evalCount = new Option<int>("--eval-count") { Description = "Points per exact W1 (toy) or samples for the Fréchet distance",
            DefaultValueFactory = _ => D.EvaluationCount };
        var classifier = new Option<string?>("--classifier") { Description = "fashion-mnist: classifier run id or weights file; reports " +
            "the Fréchet distance on its features" };
        var resume = new Option<string?>("--resume") { Description = "Continue GAN run ID from its latest checkpoint (other options " +
            "are taken from the run)" };
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Also log the critic's W estimate, the exact W1, " +
            "the losses and the penalty of each reported iteration for TensorBoard into DIR/RUN-ID ('tensorboard --logdir DIR')" };
        var histograms = new Option<bool>("--tensorboard-histograms") { Description = "With --tensorboard: also a histogram of " +
            "each parameter of both networks at each checkpoint" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("train", """
            Train a Wasserstein GAN and record the run. Checkpoints go to RUNS/ID/wgan-*.safetensors and the final networks
            to RUNS/ID/gan.safetensors; Ctrl+C writes a checkpoint and 'basin gan train --resume ID' continues.
            Reports the exact W1 between 512 generated and 512 real points (toy data), or the Fréchet distance on a
            classifier's features (fashion-mnist with --classifier).
            Example: basin gan train --data 8gaussians --penalty lp --lambda 10 --iterations 20000 --seed 1 --json
            """)
        { dataset, dataPath, samples, penalty, lambda, clip, sampling, loop.Iterations, loop.CriticSteps, loop.Warmup,
          loop.WarmupCriticSteps, loop.BatchSize, loop.Optimizer, loop.Lr, seed, loop.Hidden, width, latent, checkpointEvery, progressEvery,
          evalEvery, evalCount, classifier, resume, tensorboard, histograms, json, runs, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            using var store = RunStore.Open(pr.GetValue(runs)!);
            GanJobResult result;
            var board = pr.GetValue(tensorboard);
            bool boardHistograms = pr.GetValue(histograms);
            if (pr.GetValue(resume) is { } id)
            {
                result = GanView.Run(asJson, "gan", p => GanJob.Resume(id, store, GanTensorBoardLog.Wrap(board, p,
                    boardHistograms), ct, nThreads));
            }
            else
            {
                var spec = loop.Apply(new GanJobSpec
                {
                    Dataset = pr.GetValue(dataset)!, DataPath = pr.GetValue(dataPath), Samples = pr.GetValue(samples),
                    Penalty = pr.GetValue(penalty)!, Lambda = pr.GetValue(lambda), ClipValue = pr.GetValue(clip),
                    Sampling = pr.GetValue(sampling)!, Seed = pr.GetValue(seed), Width = pr.GetValue(width),
                    LatentDim = pr.GetValue(latent), CheckpointInterval = pr.GetValue(checkpointEvery),
                    ProgressInterval = pr.GetValue(progressEvery), EvaluationInterval = pr.GetValue(evalEvery),
                    EvaluationCount = pr.GetValue(evalCount), Classifier = pr.GetValue(classifier),
                }, pr);
                result = GanView.Run(asJson, "gan " + spec.Dataset, p => GanJob.Run(spec, store,
                    GanTensorBoardLog.Wrap(board, p, boardHistograms), ct, nThreads));
            }
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Render(GanJobResult r)
    {
        var f = r.Figures;
        var t = new Table().AddColumns("run", "data", "iterations", "critic W estimate", "penalty", "exact W1", "Fréchet distance",
            "time (s)");
        t.AddRow(r.RunId, Markup.Escape(r.Dataset), f.Iterations.ToString(CultureInfo.InvariantCulture),
            f.WassersteinEstimate.ToString("F4", CultureInfo.InvariantCulture), f.Penalty.ToString("F4", CultureInfo.InvariantCulture),
            f.ExactW1?.ToString("F4", CultureInfo.InvariantCulture) ?? "-", f.FrechetDistance?.ToString("F2", CultureInfo.InvariantCulture)
            ?? "-", f.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture));
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine($"networks: {Markup.Escape(r.WeightsPath)}");
    }
}
