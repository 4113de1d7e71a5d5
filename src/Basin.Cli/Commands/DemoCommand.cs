using System.CommandLine;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin demo`: SGD, SAM, FAM and SAF on the same Fashion-MNIST subset and seed, side by side.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var samples = new Option<long?>("--samples") { Description = "Train on the first N of the 60,000 training images (default " +
            $"{Demo.DefaultSamples})" };
        var testSamples = new Option<long?>("--test-samples") { Description = "Evaluate on the first N of the 10,000 test images " +
            $"(default {Demo.DefaultTestSamples})" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per method", DefaultValueFactory = _ => Demo.DefaultEpochs };
        var seed = new Option<long>("--seed") { Description = "Seed (same for every method)", DefaultValueFactory = _ => 1 };
        var methods = new Option<string[]>("--methods") { Description = $"Methods to compare (default: {string.Join(' ', Demo.Methods)})",
            AllowMultipleArgumentsPerToken = true };
        var model = new Option<string>("--model") { Description = "Model for every method", DefaultValueFactory = _ => "lenet5" };
        var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST IDX files" };
        var output = new Option<string?>("--out") { Description = "Folder for demo.json, demo.png and the HTML report (default: " +
            "RUNS/demo)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var wide = FittedTable.WideOption();
        var cmd = new Command("demo", """
            Train LeNet-5 on the same Fashion-MNIST subset and seed with SGD, SAM, FAM and SAF (base recipe: SGD,
            momentum 0.9, lr 0.05), and print test accuracy, accuracy and loss gaps and seconds per step of each.
            Writes OUT/demo.json, a bar chart OUT/demo.png and an HTML report comparing the runs (curves, final figures,
            config: see 'basin report'); every run is recorded ('basin runs list').
            """) { samples, testSamples, epochs, seed, methods, model, data, output, json, runs, threads, wide };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            var chosen = pr.GetValue(methods) is { Length: > 0 } m ? m : null;
            var specs = Demo.Specs(pr.GetValue(samples) ?? Demo.DefaultSamples, pr.GetValue(testSamples) ?? Demo.DefaultTestSamples,
                pr.GetValue(epochs), pr.GetValue(seed), pr.GetValue(data), chosen, pr.GetValue(model)!);
            foreach (var spec in specs) TrainingJob.RecipeFor(spec);   // an unknown method fails before any training
            foreach (var warning in specs.SelectMany(MethodWarnings.For)) CliWarning.Write(warning);
            var folder = pr.GetValue(output) ?? Path.Combine(pr.GetValue(runs)!, "demo");
            Directory.CreateDirectory(folder);
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var rows = new List<DemoRow>();
            foreach (var spec in specs)
            {
                var result = TrainingView.Run(asJson, $"{spec.Method} {spec.Model}", spec.Epochs, p => TrainingJob.Run(spec, store, p, ct,
                    nThreads));
                rows.Add(Demo.Row(spec, result));
            }
            var jsonPath = Path.Combine(folder, "demo.json");
            var chartPath = Path.Combine(folder, "demo.png");
            Demo.WriteJson(rows, jsonPath);
            long trainCount = pr.GetValue(samples) ?? Demo.DefaultSamples;
            var setting = $"Fashion-MNIST, {specs[0].Model}, {trainCount:N0} images, {specs[0].Epochs} " +
                $"epoch{(specs[0].Epochs == 1 ? "" : "s")}";
            var title = $"{setting}, seed {specs[0].Seed}";
            Demo.WriteChart(rows, chartPath, title);
            var report = Demo.WriteReport(store, rows, folder);
            if (asJson)
            {
                Console.WriteLine(Json.Serialize(new { Rows = rows, Json = jsonPath, Chart = chartPath, ChartTitle = title,
                    Report = report.HtmlPath }));
                return Cli.ExitOk;
            }
            var t = new FittedTable(new("method"), new(TrainingView.TrainAccuracy, 2), new(TrainingView.TestAccuracy),
                new(TrainingView.AccuracyGap), new(TrainingView.LossGap, 3), new("s/step", 3), new("κ_Tr head", 1),
                new("Tr H head W", 2), new("λ_max head W", 2), new("run", 4))
            {
                Title = Markup.Escape($"{title}: {specs.Count} methods from the same start"),
            };
            foreach (var r in rows)
                t.AddRow(r.Method, TrainingView.Points(r.TrainAccuracy), TrainingView.Points(r.TestAccuracy),
                    TrainingView.Points(r.AccuracyGap), r.LossGap?.ToString("F4") ?? "-", r.SecondsPerStep.ToString("F4"),
                    r.RelativeFlatnessHead?.ToString("G4") ?? "-", r.HessianTraceHeadWeight?.ToString("G4") ?? "-",
                    r.LambdaMaxHeadWeight?.ToString("G4") ?? "-", r.RunId);
            t.Write(pr.GetValue(wide));
            AnsiConsole.MarkupLine(Markup.Escape("acc gap = train − test accuracy (percentage points); loss gap = test − train " +
                "loss (nats). " +
                $"Head (last layer) geometry on the first {Math.Min(trainCount, Demo.GeometrySamples):N0} training images: " +
                "κ_Tr head = " +
                "relative flatness of its " +
                $"weight W (closed form); Tr H head W = exact trace and λ_max head W = largest eigenvalue of the Hessian by W (bias not " +
                $"included). Wrote {jsonPath} and {chartPath}"));
            // The path on a line of its own, never wrapped, so it can be copied.
            Console.WriteLine("Report (curves, final figures, config; open it in a browser):");
            Console.WriteLine(report.HtmlPath);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }
}
