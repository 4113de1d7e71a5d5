using System.CommandLine;
using System.Globalization;
using Basin.Experiments.Minima;
using Basin.Minima;
using Basin.Models;
using Basin.IO;
using Basin.Experiments;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin minima`: non-attracting local minima of sigmoid networks by neuron splitting. Each subcommand is one library
/// call.</summary>
public static class MinimaCommand
{
    public static Command Create()
    {
        var cmd = new Command("minima", """
            Non-attracting local minima in sigmoid networks (Petzka & Sminchisescu, JMLR 2021): split a hidden unit of a network
            at a strict minimum into two copies with outgoing weights λv and (1−λ)v, classify each point of the resulting line
            of critical points from B, M and the full float64 Hessian, and escape along a path on which the loss never rises.
            """);
        cmd.Subcommands.Add(Split());
        cmd.Subcommands.Add(Escape());
        cmd.Subcommands.Add(Example());
        cmd.Subcommands.Add(Survey());
        return cmd;
    }

    /// <summary>The options that say where the small network comes from (a run or a constructed case).</summary>
    sealed class SourceOptions
    {
        public readonly Argument<string?> Run = new("RUN") { Description = "A recorded run of a sigmoid or tanh MLP (id or unique prefix)",
            Arity = ArgumentArity.ZeroOrOne };
        public readonly Option<string?> Case = new("--case") { Description = "A constructed critical point instead of a run: fixture, " +
            "deep or multi-output" };
        public readonly Option<int?> Layer = new("--layer") { Description = "Hidden layer of the unit to split, 1-based (default: 1)" };
        public readonly Option<int?> Unit = new("--unit") { Description = "Unit to split, 1-based (default: 1)" };
        public readonly Option<long?> Samples = new("--samples") { Description = "Use the first N training examples of the run (default: " +
            "the run's)" };
        public readonly Option<string> Loss = new("--loss") { Description = "Loss on the run's data: cross-entropy (the run's) or mse " +
            "(against one-hot labels)", DefaultValueFactory = _ => "cross-entropy" };
        public readonly Option<bool> Polish = new("--polish") { Description = "First run Newton (trust region, " +
            "float64) to ‖∇L‖ ≤ 1e-10" };
        public readonly Option<bool> Json = Options.Json();
        public readonly Option<string> Runs = Options.Runs();
        public readonly Option<int> Threads = Options.Threads();

        public SourceOptions()
        {
            Case.AcceptOnlyFromAmong("fixture", "deep", "multi-output");
            Loss.AcceptOnlyFromAmong("cross-entropy", "mse");
        }

        public void AddTo(Command cmd)
        {
            cmd.Arguments.Add(Run);
            foreach (var o in new Option[] { Case, Layer, Unit, Samples, Loss, Polish, Json, Runs, Threads }) cmd.Options.Add(o);
        }

        public MinimaSource Source(ParseResult pr)
        {
            if (Threads.FromOption(pr) is { } n) TorchSharp.torch.set_num_threads(n);
            return new MinimaSource
            {
                RunId = pr.GetValue(Run),
                Case = ParseCase(pr.GetValue(Case)),
                Samples = pr.GetValue(Samples),
                Loss = pr.GetValue(Loss) == "mse" ? FitLoss.Mse : FitLoss.CrossEntropy,
                Polish = pr.GetValue(Polish),
            };
        }

        public RunStore? Store(ParseResult pr) => pr.GetValue(Run) is null ? null : RunStore.Open(pr.GetValue(Runs)!);
    }

    static MinimaCase? ParseCase(string? text) => text switch
    {
        null => null,
        "fixture" => MinimaCase.Fixture,
        "deep" => MinimaCase.Deep,
        "multi-output" => MinimaCase.MultiOutput,
        _ => throw new BasinException($"unknown case '{text}' (fixture, deep or multi-output)"),
    };

    static Command Split()
    {
        var source = new SourceOptions();
        var lambdas = new Option<string>("--lambdas") { Description = "Points of the line to classify",
            DefaultValueFactory = _ => "-0.5,0.25,0.5,1.5" };
        var cmd = new Command("split", """
            Split a hidden unit at λ and classify each point of the line: predicted type (from H_small, λ(1−λ)B and M) against
            the split network's full Hessian spectrum. λ = 0 and 1 are reported as boundary points and not classified.
            Examples: basin minima split 20261122-1701 --layer 1 --unit 2 --lambdas -0.5,0.25,0.5,1.5 --polish ;
                      basin minima split --case deep --lambdas 0.3,0.5,1.5
            """);
        source.AddTo(cmd);
        cmd.Options.Add(lambdas);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            var s = source.Source(pr);
            var l = ParseLambdas(pr.GetValue(lambdas)!);
            bool json = pr.GetValue(source.Json);
            using var store = source.Store(pr);
            var r = WithStatus(json, "classifying", p => MinimaJob.Split(s, store, pr.GetValue(source.Layer), pr.GetValue(source.Unit), l,
                p, ct));
            if (json) { Console.WriteLine(Json.Serialize(r)); return Cli.ExitOk; }
            MinimaView.Render(r.Source, r.Classification);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command Escape()
    {
        var source = new SourceOptions();
        var from = new Option<double>("--from") { Description = "Start on the line at this λ (a minimum, in (0, 1))",
            DefaultValueFactory = _ => 0.5 };
        var to = new Option<double>("--to") { Description = "Walk the line to this λ (a saddle, outside [0, 1])",
            DefaultValueFactory = _ => 1.5 };
        var steps = new Option<int>("--steps") { Description = "At most this many descent steps after the escape step",
            DefaultValueFactory = _ => 5000 };
        var png = new Option<string>("--png") { Description = "Write the loss along the path here",
            DefaultValueFactory = _ => "minima-escape.png" };
        var cmd = new Command("escape", """
            Escape from a split minimum: walk the line to λ = --to (constant loss), step along the eigenvector of the most negative
            Hessian eigenvalue, then descend (L-BFGS, Armijo backtracking). Every recorded loss is ≤ the previous one.
            Examples: basin minima escape --case fixture --png escape.png ;  basin minima escape RUN --layer 1 --unit 1 --polish
            """);
        source.AddTo(cmd);
        foreach (var o in new Option[] { from, to, steps, png }) cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            var s = source.Source(pr);
            var options = new EscapeOptions { From = pr.GetValue(from), To = pr.GetValue(to), MaxDescentSteps = pr.GetValue(steps) };
            bool json = pr.GetValue(source.Json);
            using var store = source.Store(pr);
            var r = WithStatus(json, "escaping", p => MinimaJob.Escape(s, store, pr.GetValue(source.Layer), pr.GetValue(source.Unit),
                options, pr.GetValue(png)!, p, ct));
            if (json) { Console.WriteLine(Json.Serialize(r)); return Cli.ExitOk; }
            MinimaView.Render(r.Source, r.Escape, r.PlotPath);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command Example()
    {
        var kind = new Option<string>("--case") { Description = "fixture (B ≻ 0, M = 0), deep (split in an inner layer) or multi-output",
            DefaultValueFactory = _ => "fixture" };
        kind.AcceptOnlyFromAmong("fixture", "deep", "multi-output");
        var lambdas = new Option<string>("--lambdas") { Description = "Points of the line to classify",
            DefaultValueFactory = _ => "-0.5,0,0.25,0.5,0.75,1,1.5" };
        var restarts = new Option<int>("--restarts") { Description = "Random Newton restarts of the wider network (0: none)",
            DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "Seed of the restarts and the probes", DefaultValueFactory = _ => 1 };
        var probes = new Option<int>("--probes") { Description = "Random directions of radius 1e-3 probed around each classified λ (0: " +
            "none)", DefaultValueFactory = _ => 1000 };
        var png = new Option<string>("--png") { Description = "Write the loss along the escape path here (fixture)",
            DefaultValueFactory = _ => "minima-escape.png" };
        var json = Options.Json();
        var threads = Options.Threads();
        var cmd = new Command("example", """
            The constructed 12-point regression example (seconds): 1 input, 1 sigmoid unit, B ≻ 0. Its split line holds degenerate
            minima for λ ∈ (0, 1) and saddles outside; the escape from λ = 1.5 reaches a lower loss, and random restarts of the
            2-unit network do better still. --case deep / multi-output: contrasts where M ≠ 0 makes every point a saddle.
            Example: basin minima example --png escape.png
            """) { kind, lambdas, restarts, seed, probes, png, json, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            if (threads.FromOption(pr) is { } n) TorchSharp.torch.set_num_threads(n);
            var spec = new MinimaExampleSpec
            {
                Case = ParseCase(pr.GetValue(kind))!.Value,
                Lambdas = ParseLambdas(pr.GetValue(lambdas)!),
                Restarts = pr.GetValue(restarts),
                Seed = pr.GetValue(seed),
                Probes = pr.GetValue(probes),
                PlotPath = pr.GetValue(png),
            };
            bool asJson = pr.GetValue(json);
            var r = WithStatus(asJson, "example", p => MinimaJob.Example(spec, p, ct));
            if (asJson) { Console.WriteLine(Json.Serialize(r)); return Cli.ExitOk; }
            MinimaView.Render(r.Source, r.Classification);
            MinimaView.Render(r.Probes);
            if (r.Escape is { } e) MinimaView.Render(r.Source, e, r.PlotPath);
            if (r.Restarts is { } s) MinimaView.Render(s, r.Classification.Loss);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static Command Survey()
    {
        var sizes = new Option<string>("--sizes") { Description = "Layer sizes: inputs, hidden widths, outputs",
            DefaultValueFactory = _ => "2,2,1" };
        var activation = new Option<string>("--activation") { Description = "sigmoid or tanh", DefaultValueFactory = _ => "sigmoid" };
        activation.AcceptOnlyFromAmong("sigmoid", "tanh");
        var samples = new Option<int>("--samples") { Description = "Points per random data set", DefaultValueFactory = _ => 12 };
        var fits = new Option<int>("--fits") { Description = "Random data sets, one Newton fit each", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of the data and the starts", DefaultValueFactory = _ => 1 };
        var json = Options.Json();
        var threads = Options.Threads();
        var cmd = new Command("survey", """
            How often is B definite at a strict minimum fitted to random data? Fits the network to random data sets (inputs uniform
            in [−2, 2]^d, N(0, 1) targets, squared error) with Newton, keeps the strict minima and classifies B of every hidden unit.
            Example: basin minima survey --sizes 2,2,1 --samples 12 --fits 200
            """) { sizes, activation, samples, fits, seed, json, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            if (threads.FromOption(pr) is { } n) TorchSharp.torch.set_num_threads(n);
            var spec = new SurveySpec
            {
                Sizes = GanCommand.ParseInts(pr.GetValue(sizes), "--sizes")!,
                Activation = pr.GetValue(activation) == "tanh" ? Activation.Tanh : Activation.Sigmoid,
                Samples = pr.GetValue(samples),
                Fits = pr.GetValue(fits),
                Seed = pr.GetValue(seed),
            };
            bool asJson = pr.GetValue(json);
            var r = WithStatus(asJson, "fitting", p => RandomFits.Survey(spec, p, ct));
            if (asJson) { Console.WriteLine(Json.Serialize(r)); return Cli.ExitOk; }
            MinimaView.Render(r);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static IReadOnlyList<double> ParseLambdas(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d
                : throw new BasinException($"--lambdas: '{s}' is not a number")).ToArray();

    static int? FromOption(this Option<int> threads, ParseResult pr) => Threads.FromOption(pr.GetValue(threads));

    /// <summary>Runs <paramref name="work"/> under a Spectre status line on a terminal, plainly otherwise.</summary>
    static T WithStatus<T>(bool json, string title, Func<IProgress<string>?, T> work)
    {
        if (!Cli.Interactive(json)) return work(null);
        T result = default!;
        AnsiConsole.Status().Start(title, ctx => { result = work(new Reporter(m => ctx.Status(Markup.Escape($"{title}: {m}")))); });
        return result;
    }

    sealed class Reporter(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
