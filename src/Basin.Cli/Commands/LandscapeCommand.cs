using System.CommandLine;
using System.Globalization;
using Basin.Experiments.Landscape;
using Basin.Landscape;
using Basin.IO;
using Basin.Experiments;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin landscape RUN`: a 1-D or 2-D slice of the loss around a recorded run's weights.</summary>
public static class LandscapeCommand
{
    static readonly LandscapeSpec D = new() { Run = "" };

    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "A training run id (or unique prefix)" };
        var dims = new Option<int>("--dims") { Description = "1 (a line) or 2 (a plane)", DefaultValueFactory = _ => D.Dims };
        var range = new Option<string>("--range") { Description = "MIN:MAX of α (and β), e.g. -1:1 or -0.5:1.5",
            DefaultValueFactory = _ => "-1:1" };
        var steps = new Option<int>("--steps") { Description = "Grid points per axis, both ends included",
            DefaultValueFactory = _ => D.Steps };
        var directions = new Option<string[]>("--directions")
        {
            Description = "random (filter-normalized Gaussian), eigen (top Hessian eigenvectors, unit norm) or 'to RUN2' " +
                "(towards another run)",
            Arity = new ArgumentArity(1, 2),
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["random"],
        };
        var align = new Option<bool>("--align") { Description = "With --directions to: permute RUN2's hidden units to match RUN first " +
            "(weight matching; MLPs)" };
        var norm = new Option<string>("--norm") { Description = "Random directions: filter, layer or none",
            DefaultValueFactory = _ => "filter" };
        norm.AcceptOnlyFromAmong("filter", "layer", "none");
        var bias = new Option<string>("--bias") { Description = "Random directions along biases: zero, random (normalized) or copy (d = " +
            "θ, as the reference code)", DefaultValueFactory = _ => "zero" };
        bias.AcceptOnlyFromAmong("zero", "random", "copy");
        var seed = new Option<long>("--seed") { Description = "Seed of the random directions (direction 2 uses seed + 1)",
            DefaultValueFactory = _ => D.Seed };
        var samples = new Option<long>("--samples") { Description = "Training examples (the first N)",
            DefaultValueFactory = _ => D.Samples };
        var testSamples = new Option<long>("--test-samples") { Description = "Test examples (0: no test curve)",
            DefaultValueFactory = _ => D.TestSamples };
        var chunk = new Option<int>("--chunk") { Description = "Examples per forward pass (bounds memory)",
            DefaultValueFactory = _ => D.ChunkSize };
        var force = new Option<bool>("--force") { Description = $"Allow more than {LandscapeJob.MaxPoints:G} grid points" };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUNS/RUN/landscape-…)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("landscape", """
            Draw the loss around a trained model: L(θ + αd) on a line or L(θ + αd₁ + βd₂) on a grid, in eval mode on the first N
            training and test examples (plain cross-entropy, no weight decay). Writes landscape.csv, landscape.json and landscape.png
            (a line plot, or contour lines over a heat map with the model's point marked). With --directions to RUN2 the line is the
            interpolation between the two runs and the barrier over t in [0, 1] is reported both ways (above the higher end;
            """ + " above the chord).\n" + """
            Example: basin landscape 20261122-1701 --dims 2 --range -1:1 --steps 21
            """) { run, dims, range, steps, directions, align, norm, bias, seed, samples, testSamples, chunk, force, output, json, runs,
            threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            if (Threads.FromOption(pr.GetValue(threads)) is { } n) TorchSharp.torch.set_num_threads(n);
            var (min, max) = ParseRange(pr.GetValue(range)!);
            var dir = pr.GetValue(directions)!;
            if (dir.Length == 2 && dir[0] != "to") throw new BasinException("--directions takes one value, or 'to RUN2'; got " +
                $"'{string.Join(' ', dir)}'");
            var spec = new LandscapeSpec
            {
                Run = pr.GetValue(run)!, Dims = pr.GetValue(dims), Min = min, Max = max, Steps = pr.GetValue(steps),
                Directions = dir[0], To = dir.Length == 2 ? dir[1] : null, Align = pr.GetValue(align),
                Norm = Enum.Parse<DirectionNorm>(pr.GetValue(norm)!, ignoreCase: true), Bias = Enum.Parse<BiasMode>(pr.GetValue(bias)!,
                    ignoreCase: true),
                Seed = pr.GetValue(seed), Samples = pr.GetValue(samples), TestSamples = pr.GetValue(testSamples),
                ChunkSize = pr.GetValue(chunk), Force = pr.GetValue(force), Output = pr.GetValue(output),
            };
            spec.Check();
            bool asJson = pr.GetValue(json);
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var r = LandscapeView.Run(asJson, "landscape", p => LandscapeJob.Run(spec, store, p, ct));
            if (asJson) Console.WriteLine(Json.Serialize(r));
            else Render(r);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    /// <summary>"MIN:MAX" as two numbers.</summary>
    internal static (double Min, double Max) ParseRange(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max))
            throw new BasinException($"--range must be MIN:MAX, e.g. -1:1, got '{text}'");
        return (min, max);
    }

    static string N(double x) => double.IsNaN(x) ? "NaN" : x.ToString("G5", CultureInfo.InvariantCulture);

    static void Render(LandscapeResult r)
    {
        var loss = r.Train.Loss.SelectMany(row => row).Where(double.IsFinite).ToArray();
        var what = r.To is null ? $"{r.Directions} directions" : $"towards run {r.To}";
        var t = new Table().Title(Markup.Escape($"{r.Model} on {r.Dataset}, run {r.Run}: {r.Dims}-D slice, {what}")).AddColumns("quantity",
            "value");
        t.AddRow("grid", Markup.Escape($"{r.Alphas.Count}{(r.Betas is null ? "" : $" × {r.Betas.Count}")} points on " +
            $"[{N(r.Alphas[0])}, {N(r.Alphas[^1])}]"));
        t.AddRow("direction norms", Markup.Escape(string.Join(", ", r.DirectionNorms.Select(N)))
            + (r.Cosine is { } c ? Markup.Escape($" (cosine {N(c)})") : ""));
        if (r.Eigenvalues is not null) t.AddRow("Hessian eigenvalues", Markup.Escape(string.Join(", ", r.Eigenvalues.Select(N))));
        if (r.Alignment is not null) t.AddRow("alignment", Markup.Escape($"{r.Alignment.UnitsMoved} hidden units permuted " +
            $"({r.Alignment.Sweeps} sweeps)"));
        t.AddRow("the model's train loss (nats)", N(r.OwnLoss));
        if (loss.Length > 0) t.AddRow("train loss on the grid (nats)", Markup.Escape($"{N(loss.Min())} … {N(loss.Max())}"));
        if (r.Test is not null) t.AddRow("test loss on the grid (nats)",
            Markup.Escape($"{N(r.Test.Loss.SelectMany(x => x).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min())} … " +
            $"{N(r.Test.Loss.SelectMany(x => x).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max())}"));
        int nan = r.Train.NanPoints + (r.Test?.NanPoints ?? 0);
        if (nan > 0) t.AddRow("[red]NaN losses[/]", $"{nan} points (recorded as NaN, left out of the plot)");
        if (r.Barrier is { } b) t.AddRow("barrier, t in [[0, 1]] (nats)",
            Markup.Escape($"above the higher end {N(b.Max)}, above the chord " +
            $"{N(b.Chord)} (at t = {N(b.PeakT)})"));
        AnsiConsole.Write(t);
        foreach (var f in r.Files) AnsiConsole.MarkupLine($"wrote {Markup.Escape(f)}");
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Seconds:F1} s"));
    }
}
