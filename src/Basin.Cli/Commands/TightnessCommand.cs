using Basin.Measures;
using System.CommandLine;
using System.Globalization;
using Basin.Experiments.Tightness;
using Basin.IO;
using Basin.Experiments;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>
/// `basin tightness twins|parity`: the two exact demonstrations of "Fantastic Generalization Measures are Nowhere to be
/// Found" (Gastpar et al.). Each subcommand is one call into Basin.Experiments.Tightness.
/// </summary>
public static class TightnessCommand
{
    static readonly TwinsConfig T = new();
    static readonly ParityConfig P = new();
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var cmd = new Command("tightness", "What no generalization measure can do: the twin construction (bounds of the sample and the " +
            "network) and the parity trade-off (bounds that know the algorithm)");
        cmd.Subcommands.Add(Twins());
        cmd.Subcommands.Add(Parity());
        return cmd;
    }

    static Command Twins()
    {
        var universe = new Option<int>("--universe") { Description = "Images in the finite universe U (training images chosen by --seed)",
            DefaultValueFactory = _ => T.Universe };
        var sample = new Option<int>("--sample") { Description = "Draws with replacement in the sample S",
            DefaultValueFactory = _ => T.Sample };
        var models = new Option<string>("--models") { Description = "Model specs, separated by ';' (see 'basin train --help')",
            DefaultValueFactory = _ => string.Join(";", T.Models) };
        var lrs = new Option<string>("--lrs") { Description = "Adam learning rates, comma-separated",
            DefaultValueFactory = _ => string.Join(",", T.LearningRates.Select(r => r.ToString(Inv))) };
        var seeds = new Option<string>("--seeds") { Description = "Network seeds, comma-separated",
            DefaultValueFactory = _ => string.Join(",", T.Seeds) };
        var maxEpochs = new Option<int>("--max-epochs") { Description = "Epochs at most per network",
            DefaultValueFactory = _ => T.MaxEpochs };
        var batch = new Option<int>("--batch-size") { Description = "Batch size", DefaultValueFactory = _ => T.BatchSize };
        var stop = new Option<double>("--stop-loss") { Description = "Stop training when the train cross-entropy on U is at or below this",
            DefaultValueFactory = _ => T.StopLoss };
        var completions = new Option<int>("--completions") { Description = "Independent scenario-2 completions per network " +
            "(concentration of L₂)", DefaultValueFactory = _ => T.Completions };
        var seed = new Option<long>("--seed") { Description = "Seed of the universe, its random labels and the sample",
            DefaultValueFactory = _ => T.Seed };
        var measures = new Option<string>("--measures") { Description = "'all' or measure names from 'basin measures', comma-separated",
            DefaultValueFactory = _ => T.Measures };
        var noNatural = new Option<bool>("--no-natural") { Description = "Skip the true-label contrast" };
        var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST IDX files (default: searched)" };
        var output = new Option<string?>("--out") { Description = "Output folder (default: ./tightness-twins-seedS)" };
        var json = Options.Json();
        var threads = Options.Threads();
        var cmd = new Command("twins", """
            The impossibility for bounds B(S, h): a universe of images with uniform random labels, a sample S of draws with
            replacement, networks that interpolate U. The same (S, h) is a draw of scenario 1 (loss 0) and of scenario 2
            (labels re-drawn off S, loss ≈ 0.9·(1 − 1/n)^m), so every measure, and any bound built from it, is off by at
            least L₂/2 on one of them. Also: a bound a + b·measure calibrated on one scenario and scored on the other, and
            the true-label contrast (where an estimate from the disagreement with an S-only model can be tight).
            Writes results.json and measures.csv. Example: basin tightness twins --threads 1
            """) { universe, sample, models, lrs, seeds, maxEpochs, batch, stop, completions, seed, measures, noNatural, data, output, json,
            threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            var config = new TwinsConfig
            {
                Universe = pr.GetValue(universe), Sample = pr.GetValue(sample),
                Models = pr.GetValue(models)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                LearningRates = GanCommand.ParseList(pr.GetValue(lrs)!, "--lrs", s => double.Parse(s, Inv)),
                Seeds = GanCommand.ParseList(pr.GetValue(seeds)!, "--seeds", s => long.Parse(s, Inv)),
                MaxEpochs = pr.GetValue(maxEpochs), BatchSize = pr.GetValue(batch), StopLoss = pr.GetValue(stop),
                Completions = pr.GetValue(completions), Seed = pr.GetValue(seed), Measures = pr.GetValue(measures)!,
                Natural = !pr.GetValue(noNatural), DataPath = pr.GetValue(data), Output = pr.GetValue(output),
                Threads = Threads.FromOption(pr.GetValue(threads)),
            };
            var notes = new List<string>();
            MeasureRegistry.Resolve([config.Measures], MeasureScope.Model, notes);   // the study maps old names itself
            foreach (var note in notes) CliWarning.Write(note);
            var progress = new Progress(asJson);
            var result = TwinsStudy.Run(config, progress, ct);
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command Parity()
    {
        var d = new Option<int>("--d") { Description = "Dimension d of GF(2)^d (1 to 62)", DefaultValueFactory = _ => P.Dimension };
        var m = new Option<string>("--m") { Description = "Sample sizes m, comma-separated", DefaultValueFactory = _ => string.Join(",",
            P.SampleSizes) };
        var draws = new Option<int>("--draws") { Description = "Simulated draws per row with the learner run (0: exact table only)",
            DefaultValueFactory = _ => P.Draws };
        var seed = new Option<long>("--seed") { Description = "Seed of the simulation", DefaultValueFactory = _ => P.Seed };
        var output = new Option<string?>("--out") { Description = "Also write the table to this JSON file" };
        var json = Options.Json();
        var cmd = new Command("parity", """
            The learnability–estimability trade-off for bounds that know the algorithm, exact: parities over GF(2)^d, a uniform
            target, m uniform samples, Gaussian elimination as the learner (free variables 0). Per m: P(the learner is exact),
            E[its loss], and the least average |B − L| any bound B(A, S) can achieve (from the exact rank distribution), with a
            simulation of the learner beside it. Example: basin tightness parity --d 20 --m 10,15,18,19,20,21,22,25,30
            """) { d, m, draws, seed, output, json };
        cmd.SetAction(pr =>
        {
            var config = new ParityConfig
            {
                Dimension = pr.GetValue(d), SampleSizes = GanCommand.ParseList(pr.GetValue(m)!, "--m", s => int.Parse(s, Inv)),
                Draws = pr.GetValue(draws), Seed = pr.GetValue(seed), Output = pr.GetValue(output),
            };
            var result = ParityStudy.Run(config);
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(result)); return Cli.ExitOk; }
            var t = Columns("m", "P(A exact)", "E[L(A(S))]", "least avg |B − L|", "sim: E[L] ± se", "sim: median-bound |B − L| ± se");
            foreach (var r in result.Rows)
                t.AddRow(r.Exact.M.ToString(Inv), r.Exact.ExactProbability.ToString("F4", Inv), r.Exact.ExpectedLoss.ToString("F4", Inv),
                    r.Exact.LeastBoundError.ToString("F4", Inv),
                    r.Simulated is { } s ? $"{s.MeanLoss.ToString("F4", Inv)} ± {s.MeanLossStandardError.ToString("F4", Inv)}" : "-",
                    r.Simulated is { } s2 ? $"{s2.MedianBoundError.ToString("F4", Inv)} ± " +
                    $"{s2.MedianBoundErrorStandardError.ToString("F4", Inv)}" : "-");
            AnsiConsole.Write(t);
            AnsiConsole.WriteLine($"d = {result.Dimension}: no bound B(A, S) has average error below " +
                $"{result.WorstLeastBoundError.ToString("F4", Inv)} at m = {result.WorstM}.");
            if (result.JsonPath is { } p) AnsiConsole.WriteLine($"table: {p}");
            return Cli.ExitOk;
        });
        return cmd;
    }

    static void Render(TwinsResult r)
    {
        string F(double x, int digits = 4) => double.IsFinite(x) ? x.ToString("F" + digits, Inv) : x.ToString(Inv);
        string G(double? x) => x is { } v ? (double.IsFinite(v) ? v.ToString("G4", Inv) : v.ToString(Inv)) : "-";
        AnsiConsole.WriteLine($"universe n = {r.UniverseSize}, sample m = {r.SampleSize} draws ({r.DistinctSampled} distinct): unseen " +
            $"fraction ρ = {F(r.UnseenFraction)} " +
            $"(expected {F(r.ExpectedUnseenFraction)}); expected L₂ = {F(r.ExpectedL2)}");
        var nets = Columns("network", "epochs", "train loss (nats)", "accuracy on (U, ℓ)", "L₁", "L₂", "L₂ over completions (mean ± sd)",
            "train time (s)");
        foreach (var n in r.Networks)
            nets.AddRow(Markup.Escape($"{n.Model} lr {n.LearningRate.ToString(Inv)} seed {n.Seed}"), n.Epochs.ToString(Inv),
                F(n.FinalTrainLoss), F(n.UniverseAccuracy), F(n.L1), F(n.L2), $"{F(n.L2CompletionMean)} ± {F(n.L2CompletionSd)}",
                F(n.TrainSeconds, 1));
        AnsiConsole.Write(nets);
        var bounds = Columns("measure", "nets", "fit on 1: err on 1", "fit on 1: err on 2", "fit on 2: err on 2", "fit on 2: err on 1",
            "least worst case L₂/2");
        foreach (var b in r.Bounds)
            bounds.AddRow(b.Measure, b.Networks.ToString(Inv), F(b.FitOn1ErrorOn1), F(b.FitOn1ErrorOn2), F(b.FitOn2ErrorOn2),
                F(b.FitOn2ErrorOn1), F(b.BestWorstCase));
        AnsiConsole.Write(bounds);
        if (r.Natural is { } nat)
        {
            AnsiConsole.WriteLine($"true-label contrast ({nat.Model}): S-only model held-out error ê = {F(nat.HeldOutError)}, its " +
                $"actual error on U \\ S {F(nat.SampleModelUnseenError)}");
            var t = Columns("network", "accuracy on its labels", "L (true labels)", "disagreement on U \\ S", "estimate",
                "|estimate − L|");
            foreach (var n in nat.Networks)
                t.AddRow(Markup.Escape($"{n.Role} ({n.Labels})"), F(n.UniverseAccuracy), F(n.TrueLoss), F(n.Disagreement), F(n.Estimate),
                    F(Math.Abs(n.Estimate - n.TrueLoss)));
            AnsiConsole.Write(t);
            var m = Columns(["measure", .. nat.Networks.Select(n => n.Role)]);
            foreach (var name in nat.Networks[0].Measures.Select(v => v.Measure))
                m.AddRow([name, .. nat.Networks.Select(n => G(n.Measures.First(v => v.Measure == name).Value))]);
            AnsiConsole.Write(m);
        }
        AnsiConsole.WriteLine($"results: {r.JsonPath} ({F(r.Seconds, 0)} s)");
    }

    static Table Columns(params string[] names) => new Table().AddColumns(names.Select(Markup.Escape).ToArray());

    sealed class Progress(bool json) : IProgress<TwinsProgress>
    {
        public void Report(TwinsProgress p)
        {
            if (!json) Console.WriteLine($"tightness twins: {p.Stage} {p.Done}/{p.Of}: {p.What}");
        }
    }
}
