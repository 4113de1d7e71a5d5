using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Robustness;
using Basin.IO;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin robustness RUN…`: the runs on MNIST-C corruptions, with per-sample geometry of the penultimate features.</summary>
public static class RobustnessCommand
{
    public static Command Create()
    {
        var d = new RobustnessSpec { Runs = [], Out = "" };
        var runIds = new Argument<string[]>("RUN") { Description = "Finished training or prune runs (ids or unique prefixes), all " +
            "tested on the same data", Arity = ArgumentArity.OneOrMore };
        var corruptions = new Option<string>("--corruptions") { Description = "all, or a comma-separated list of: " +
            string.Join(", ", Basin.Data.Corruptions.ImageCorruptions.Names), DefaultValueFactory = _ => d.Corruptions };
        var severities = new Option<string>("--severities") { Description = "Severities in 1-5: a range (1-5), one (3) or a list (1,3,5)",
            DefaultValueFactory = _ => d.Severities };
        var samples = new Option<int?>("--samples") { Description = "Use the first N test examples (default: the runs' test set)" };
        var seed = new Option<long>("--seed") { Description = "Base seed of the corruptions' random draws",
            DefaultValueFactory = _ => d.Seed };
        var output = new Option<string>("--out") { Description = "Folder for the CSV tables, result.json and PNGs",
            DefaultValueFactory = _ => "robustness" };
        var extremes = new Option<int>("--extremes") { Description = "How many most fragile and most robust samples to list",
            DefaultValueFactory = _ => d.Extremes };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("robustness", """
            Evaluate runs on corrupted copies of their test set (MNIST-C corruptions, seeded per sample: every run sees the same
            images) with per-sample geometry of the penultimate features (feature length, angles, margins); writes CSV tables,
            result.json and PNGs into --out (docs/pruning.md).
            Example: basin robustness DENSE PRUNED --corruptions all --severities 1-5 --out robustness
            """)
        { runIds, corruptions, severities, samples, seed, output, extremes, json, runs, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            if (Threads.FromOption(pr.GetValue(threads)) is { } n) TorchSharp.torch.set_num_threads(n);
            var spec = new RobustnessSpec
            {
                Runs = pr.GetValue(runIds)!,
                Corruptions = pr.GetValue(corruptions)!,
                Severities = pr.GetValue(severities)!,
                Samples = pr.GetValue(samples),
                Seed = pr.GetValue(seed),
                Out = pr.GetValue(output)!,
                Extremes = pr.GetValue(extremes),
            };
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var progress = new Sink(asJson ? _ => { } : p => Console.WriteLine($"set {p.Index}/{p.Of}: {p.Corruption}" +
                (p.Severity > 0 ? $" severity {p.Severity}" : "")));
            var result = RobustnessJob.Run(spec, store, progress, ct);
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Render(RobustnessResult r)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Dataset}, {r.Samples} test samples, {r.Corruptions.Count} corruptions × severities " +
            $"{string.Join(",", r.Severities)}, seed {r.Seed}"));
        var t = new Table().AddColumns("run", "model", "weight sparsity", "clean acc", "mean corrupted acc", "AUC Δθ_y", "AUC −Δ‖h‖",
            "AUC margin→fragile");
        foreach (var x in r.Runs)
            t.AddRow(x.RunId, Markup.Escape(x.Model), Pct(x.WeightSparsity), Pct(x.CleanAccuracy), Pct(x.MeanCorruptedAccuracy),
                F(x.FlipAucAngle), F(x.FlipAucLength), F(x.FragilityAucMargin));
        AnsiConsole.Write(t);
        var redundant = r.Redundancy.Where(p => p.Redundant).Select(p => $"{p.A}~{p.B}").ToArray();
        if (redundant.Length > 0) AnsiConsole.MarkupLine(Markup.Escape($"redundant corruptions (ρ > 0.9): {string.Join(", ", redundant)}"));
        AnsiConsole.MarkupLine(Markup.Escape($"most fragile samples: {string.Join(", ", r.MostFragile.Take(10).Select(s => s.Sample))}"));
        AnsiConsole.MarkupLine(Markup.Escape($"files: {Path.GetDirectoryName(r.Files[0])}"));
    }

    static string Pct(double x) => double.IsNaN(x) ? "-" : (100 * x).ToString("F2", CultureInfo.InvariantCulture) + "%";
    static string F(double x) => double.IsNaN(x) ? "-" : x.ToString("F3", CultureInfo.InvariantCulture);

    sealed class Sink(Action<RobustnessProgress> action) : IProgress<RobustnessProgress>
    {
        public void Report(RobustnessProgress value) => action(value);
    }
}
