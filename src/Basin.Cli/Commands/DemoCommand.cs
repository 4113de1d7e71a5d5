using System.CommandLine;
using Basin.Reports;
using Basin.Runs;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin demo`: the main job — train and evaluate LeNet-5 and an MLP on real Fashion-MNIST.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var samples = new Option<long?>("--samples") { Description = "Train on the first N of the 60,000 training images (default: all)" };
        var testSamples = new Option<long?>("--test-samples") { Description = "Evaluate on the first N of the 10,000 test images (default: all)" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per model", DefaultValueFactory = _ => 3 };
        var seed = new Option<long>("--seed") { Description = "Seed (same for every model)", DefaultValueFactory = _ => 1 };
        var models = new Option<string[]>("--models") { Description = "Models to train (default: lenet5 mlp:512,512)", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST IDX files" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("demo", """
            Train LeNet-5 and an MLP (784-512-512-10) on real Fashion-MNIST with SGD (momentum 0.9),
            evaluate train and test loss and accuracy every epoch, and print the generalization gap of each.
            Both runs are recorded in the run database ('basin runs list').
            """) { samples, testSamples, epochs, seed, models, data, json, runs, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            var chosen = pr.GetValue(models) is { Length: > 0 } m ? m : null;
            var specs = Demo.Specs(pr.GetValue(samples), pr.GetValue(testSamples), pr.GetValue(epochs), pr.GetValue(seed), pr.GetValue(data), chosen);
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var results = new List<TrainJobResult>();
            foreach (var spec in specs)
                results.Add(TrainingView.Run(asJson, spec.Model, spec.Epochs, p => TrainingJob.Run(spec, store, p, ct, nThreads)));
            if (asJson)
            {
                Console.WriteLine(Json.Serialize(results.Select(r => new { r.RunId, r.Model, r.Dataset, r.Figures, r.WeightsPath })));
                return Cli.ExitOk;
            }
            var t = new Table().Title("Fashion-MNIST: generalization of LeNet-5 and an MLP")
                .AddColumns("model", "train loss", "train acc", "test loss", "test acc", "gap (loss)", "gap (acc)", "epochs", "s/epoch", "run");
            foreach (var r in results)
            {
                var f = r.Figures;
                t.AddRow(Markup.Escape(r.Model), f.TrainLoss.ToString("F4"), TrainingView.Percent(f.TrainAccuracy), f.TestLoss?.ToString("F4") ?? "-",
                    TrainingView.Percent(f.TestAccuracy), f.Gap?.ToString("F4") ?? "-", TrainingView.Percent(f.AccuracyGap), f.Epochs.ToString(),
                    (f.TrainSeconds / Math.Max(1, f.Epochs)).ToString("F1"), r.RunId);
            }
            AnsiConsole.Write(t);
            AnsiConsole.MarkupLine("gap (loss) = test loss − train loss; gap (acc) = train accuracy − test accuracy. Details: [bold]basin runs show ID[/]");
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }
}
