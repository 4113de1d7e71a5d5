using System.CommandLine;
using System.Globalization;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gan compare`: the WGAN-LP paper's λ-sensitivity study on a toy set.</summary>
public static class GanCompareCommand
{
    static readonly GanComparisonSpec D = new();

    public static Command Create()
    {
        var loop = GanLoopOptions.For(D);
        var dataset = new Option<string>("--data") { Description = "8gaussians, 25gaussians or swissroll",
            DefaultValueFactory = _ => D.Dataset };
        var penalties = new Option<string>("--penalties") { Description = "Comma-separated penalties among clip, gp, lp",
            DefaultValueFactory = _ => string.Join(",", D.Penalties) };
        var lambdas = new Option<string>("--lambdas") { Description = "Comma-separated λ values for gp and lp",
            DefaultValueFactory = _ => "1,10,100" };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds", DefaultValueFactory = _ => "0,1,2" };
        var samples = new Option<int>("--samples") { Description = "Toy points per run", DefaultValueFactory = _ => D.Samples };
        var evalEvery = new Option<int>("--eval-every") { Description = "Exact W1 every N iterations (default: at the end)",
            DefaultValueFactory = _ => 0 };
        var evalCount = new Option<int>("--eval-count") { Description = "Points per exact W1",
            DefaultValueFactory = _ => D.EvaluationCount };
        var csv = new Option<string?>("--csv") { Description = "Also write one line per run to this CSV file" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("compare", """
            Train a grid of toy WGANs (penalty × λ × seed; clipping once per seed) and compare the exact W1 after training:
            the WGAN-LP paper's test of whether a penalty is sensitive to λ.
            Example: basin gan compare --data 8gaussians --lambdas 1,10,100 --seeds 0,1,2 --iterations 2000
            """)
        { dataset, penalties, lambdas, seeds, loop.Iterations, loop.CriticSteps, loop.Warmup, loop.WarmupCriticSteps, loop.BatchSize,
          loop.Optimizer, loop.Lr, loop.Hidden, samples, evalEvery, evalCount, csv, json, runs, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            var spec = loop.Apply(new GanComparisonSpec
            {
                Dataset = pr.GetValue(dataset)!,
                Penalties = GanCommand.ParseList(pr.GetValue(penalties)!, "--penalties", s => s.ToLowerInvariant()),
                Lambdas = GanCommand.ParseList(pr.GetValue(lambdas)!, "--lambdas", s => double.Parse(s, CultureInfo.InvariantCulture)),
                Seeds = GanCommand.ParseList(pr.GetValue(seeds)!, "--seeds", s => long.Parse(s, CultureInfo.InvariantCulture)),
                Samples = pr.GetValue(samples), EvaluationInterval = pr.GetValue(evalEvery), EvaluationCount = pr.GetValue(evalCount),
            }, pr);
            spec.ToConfig();
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var result = GanView.Run(asJson, "gan compare", p => GanComparisonJob.Run(spec, store, p, ct, nThreads));
            if (pr.GetValue(csv) is { } path) Basin.IO.AtomicFile.WriteAllText(path, result.RowsCsv());
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Render(GanComparisonResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var t = new Table().AddColumns("penalty", "λ", "runs", "diverged", "final W1 (mean)", "± std");
        foreach (var s in r.Summary)
            t.AddRow(GanComparisonJob.PenaltyName(s.Regularization), s.Lambda?.ToString(inv) ?? "-", s.Runs.ToString(inv),
                s.Diverged.ToString(inv), s.MeanFinalW1.ToString("F4", inv), s.StdFinalW1.ToString("F4", inv));
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine($"run {r.RunId}");
    }
}
