using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Pruning;
using Basin.IO;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin sparse-search RUN`: node random search against random node masks and the dense parent.</summary>
public static class SparseSearchCommand
{
    public static Command Create()
    {
        var d = new SparseSearchSpec { SourceRun = "" };
        var run = new Argument<string?>("RUN") { Description = "The dense parent: a finished training run of an mlp or lenet5",
            Arity = ArgumentArity.ZeroOrOne };
        var resume = new Option<string?>("--resume") { Description = "Continue the search whose --out folder this is, with its " +
            "recorded settings (finished scores and networks are kept)" };
        var sparsities = new Option<string>("--sparsities") { Description = "Node sparsities, comma-separated, each in (0, 1)",
            DefaultValueFactory = _ => string.Join(",", d.Sparsities.Select(s => s.ToString(CultureInfo.InvariantCulture))) };
        var candidates = new Option<int>("--candidates") { Description = "Random node masks scored per sparsity (K)",
            DefaultValueFactory = _ => d.Candidates };
        var random = new Option<int>("--random") { Description = "Random control masks trained fully per sparsity (R)",
            DefaultValueFactory = _ => d.RandomMasks };
        var scoreSteps = new Option<int>("--score-steps") { Description = "Training steps before a candidate is scored (0: score at " +
            "initialization)", DefaultValueFactory = _ => d.ScoreSteps };
        var scoreSamples = new Option<int>("--score-samples") { Description = "Score on the first N training examples",
            DefaultValueFactory = _ => d.ScoreSamples };
        var score = new Option<string>("--score") { Description = "loss (lowest wins) or accuracy (highest wins)",
            DefaultValueFactory = _ => d.Score };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs of full training (default: the run's)" };
        var seed = new Option<long?>("--seed") { Description = "Base seed of the masks (default: the run's seed)" };
        var threshold = new Option<double>("--threshold") { Description = "Epochs to threshold: first epoch whose train accuracy " +
            "reaches this fraction of the dense parent's final train accuracy", DefaultValueFactory = _ => d.Threshold };
        var diagnostic = new Option<int>("--diagnostic") { Description = "Also train N candidates spread over the score ranking " +
            "fully, for Spearman(score, test accuracy)", DefaultValueFactory = _ => d.Diagnostic };
        var output = new Option<string?>("--out") { Description = "Folder for result.json, networks.csv, candidates.csv and " +
            "sparse-search.png" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("sparse-search", """
            Node random search ("Random Search as a Baseline for Sparse Neural Network Architecture Search"): per node sparsity,
            score K random node masks at the run's initialization after a short training, train the best fully, and compare it
            with R random masks and the dense parent (final accuracy, epochs to threshold, 95 % bootstrap intervals).
            With --out, Ctrl+C keeps what is finished and 'basin sparse-search --resume DIR' continues.
            Example: basin sparse-search RUN --sparsities 0.5,0.75,0.9 --candidates 20 --random 5 --out search
            """)
        { run, sparsities, candidates, random, scoreSteps, scoreSamples, score, epochs, seed, threshold, diagnostic, output, resume, json,
            runs, threads };
        Option[] searchOptions = [sparsities, candidates, random, scoreSteps, scoreSamples, score, epochs, seed, threshold, diagnostic,
            output];
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            if (nThreads is { } n) TorchSharp.torch.set_num_threads(n);
            var resumeFolder = pr.GetValue(resume);
            if (resumeFolder is not null && (pr.GetValue(run) is not null ? "RUN"
                : searchOptions.FirstOrDefault(o => pr.GetResult(o) is { Implicit: false })?.Name) is { } given)
                throw new OptionException("--resume", "--resume continues a search with its recorded settings: give no " +
                    $"{given} with it");
            var spec = resumeFolder is not null ? null : new SparseSearchSpec
            {
                SourceRun = pr.GetValue(run) ?? throw new OptionException("RUN", "give RUN, the dense parent, or --resume DIR"),
                Sparsities = ParseList(pr.GetValue(sparsities)!),
                Candidates = pr.GetValue(candidates),
                RandomMasks = pr.GetValue(random),
                ScoreSteps = pr.GetValue(scoreSteps),
                ScoreSamples = pr.GetValue(scoreSamples),
                Score = pr.GetValue(score)!,
                Epochs = pr.GetValue(epochs),
                Seed = pr.GetValue(seed),
                Threshold = pr.GetValue(threshold),
                Diagnostic = pr.GetValue(diagnostic),
                Out = pr.GetValue(output),
            };
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var progress = new Sink(asJson ? _ => { } : p => Console.WriteLine(p.Stage == "dense"
                ? $"dense parent: test acc {Pct(p.Value)}"
                : $"s={p.Sparsity.ToString(CultureInfo.InvariantCulture)} {p.Stage} {p.Index}/{p.Of}: " +
                  (p.Stage == "score" ? p.Value.ToString("F4", CultureInfo.InvariantCulture) : $"test acc {Pct(p.Value)}")));
            var result = spec is null ? SparseSearchJob.Resume(resumeFolder!, store, progress, ct, nThreads)
                : SparseSearchJob.Run(spec, store, progress, ct, nThreads);
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static double[] ParseList(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(x => double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new OptionException("--sparsities", $"--sparsities: '{x}' is not a number")).ToArray();

    static void Render(SparseSearchResult r)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"node random search on run {r.SourceRun} ({r.Model}, {r.Dataset}), {r.Epochs} epochs, " +
            $"score {r.Score} after {r.ScoreSteps} steps; dense parent: test acc {Pct(r.Dense.TestAccuracy)}, epochs to threshold " +
            $"({Pct(r.ThresholdAccuracy)} train acc) {r.Dense.EpochsToThreshold?.ToString(CultureInfo.InvariantCulture) ?? "never"}"));
        var t = new Table().AddColumns("node sparsity", "weight sparsity", "units kept", "search acc", "random acc (95% CI)",
            "search − random (95% CI)", "dense − random (95% CI)", "search − random epochs (95% CI)", "ρ(score, acc)");
        foreach (var s in r.Sparsities)
            t.AddRow(Pct(s.NodeSparsity), Pct(s.WeightSparsity), string.Join(" ", s.Units.Select(u => $"{u.Kept}/{u.Units}")),
                Pct(s.Search.TestAccuracy), Ci(s.RandomAccuracy, true), Ci(s.SearchMinusRandomAccuracy, true),
                Ci(s.DenseMinusRandomAccuracy, true), Ci(s.SearchMinusRandomEpochs, false),
                double.IsNaN(s.ScoreAccuracySpearman) ? "-" : s.ScoreAccuracySpearman.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(t);
    }

    static string Ci(Basin.Pruning.Interval i, bool percent) => Markup.Escape(percent
        ? $"{Pct(i.Estimate)} [{Pct(i.Low)}, {Pct(i.High)}]"
        : string.Create(CultureInfo.InvariantCulture, $"{i.Estimate:F2} [{i.Low:F2}, {i.High:F2}]"));

    static string Pct(double x) => double.IsNaN(x) ? "-" : (100 * x).ToString("F2", CultureInfo.InvariantCulture) + "%";

    sealed class Sink(Action<SparseSearchProgress> action) : IProgress<SparseSearchProgress>
    {
        public void Report(SparseSearchProgress value) => action(value);
    }
}
