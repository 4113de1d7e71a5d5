using System.CommandLine;
using System.Globalization;
using Basin.Curvature;
using Basin.Data;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>
/// `basin geometry`: loss-surface geometry (relative flatness, Hessian spectrum, feature robustness) of saved weights.
/// `basin measure`, its name before issue 11, is a hidden alias for one release that notes the rename on stderr.
/// </summary>
public static class GeometryCommand
{
    public const string Name = "geometry";
    public const string OldName = "measure";

    /// <summary>The command, or with <paramref name="oldName"/> its hidden alias under the old name.</summary>
    public static Command Create(bool oldName = false)
    {
        var source = new SourceOptions();
        var layer = new Option<string?>("--layer") { Description = "Layer to measure: a linear or conv layer name (e.g. fc3, conv1) or " +
            "'all' (every one, plus the whole network); default: the head" };
        var measures = new Option<string>("--measures")
        {
            Description = $"Comma-separated per-layer measures (see 'basin measures') or 'all': {string.Join(", ", GeometryMeasures.All)}",
            DefaultValueFactory = _ => string.Join(",", new MeasureSpec().Measures),
        };
        var variant = new Option<string?>("--variant") { Description = "Relative-flatness variant: closed-form (head), block, estimator, " +
            "neuron-max, layer-trace, layer-max (default: closed-form for the head, block for ≤ 1024 weights, else estimator)" };
        var normalized = new Option<bool>("--normalized") { Description = "Divide relative flatness by m (the layer's inputs per neuron)" };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay α the model was trained with, as in 'basin " +
            "train --weight-decay' (a loss term α/2·‖w‖²): adds α to the Hessian's diagonal in relative flatness" };
        var normalizeFeatures = new Option<bool>("--normalize-features") { Description = "Measure relative flatness in features divided " +
            "by their standard deviation (removes the input-rescaling freedom)" };
        var top = new Option<int>("--top") { Description = "Eigenvalues for top-eigenvalues-weight and gauss-newton-top",
            DefaultValueFactory = _ => 5 };
        var deltas = new Option<string>("--deltas") { Description = "Perturbation sizes δ for feature-robustness, comma-separated",
            DefaultValueFactory = _ => "0.01,0.03,0.1" };
        var plot = new Option<string?>("--plot") { Description = "PNG file for the spectral density (default: the run's folder, else " +
            "./density-LAYER.png)" };
        var hutchinson = new Option<bool>("--hutchinson") { Description = "Estimate the Hessian trace by Hutchinson everywhere (default: " +
            "exact for the head, by its closed form, and for layers of at most --max-probes weights)" };
        var traceError = new Option<double>("--trace-error") { Description = "Stop Hutchinson and the flatness estimator at this " +
            "relative standard error", DefaultValueFactory = _ => 0.05 };
        var maxProbes = new Option<int>("--max-probes") { Description = "Most probes for Hutchinson and the flatness estimator",
            DefaultValueFactory = _ => 200 };
        var traceSketch = new Option<int>("--trace-sketch") { Description = "Deflate Hutchinson's trace by a Lanczos sketch of this many " +
            "steps: the same accuracy from fewer products when a few large eigenvalues dominate, as in trained networks (0: plain)",
            DefaultValueFactory = _ => 0 };
        var float64 = new Option<bool>("--float64") { Description = "Measure in float64 (slower, more exact)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the random probes", DefaultValueFactory = _ => 0 };
        var yes = new Option<bool>("--yes") { Description = $"Go ahead when the cost estimate is over {Duration(AskAbove)}: on a " +
            "terminal such a command stops and asks for --yes (elsewhere it goes ahead and prints the estimate on stderr)" };
        var cmd = new Command(oldName ? OldName : Name, """
            Measure the loss-surface geometry of saved weights on a data split, per layer (by the layer's weight):
            relative flatness, Hessian trace, top eigenvalues, spectral density (PNG), Gauss-Newton eigenvalues,
            outliers, feature robustness. 'basin measures' lists the measures; names are those of its 'geometry' rows.
            Examples: basin geometry --run 20261122-1701 ;
                      basin geometry --weights lenet.safetensors --model lenet5 --layer fc3
            """ + " --measures relative-flatness,hessian-trace-weight,top-eigenvalues-weight --split train --samples 2000 --json")
        {
            Hidden = oldName,
        };
        source.AddTo(cmd);
        foreach (var o in new Option[] { layer, measures, variant, normalized, weightDecay, normalizeFeatures, top, deltas, plot,
            hutchinson, traceError, maxProbes, traceSketch, float64, seed, yes })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            if (oldName) CliWarning.Write($"'basin {OldName}' is renamed 'basin {Name}' (not to be confused with 'basin measures'); the " +
                "old name goes in the next release");
            source.ApplyThreads(pr);
            var notes = new List<string>();
            var chosen = GeometryMeasures.Parse(pr.GetValue(measures)!, notes);
            foreach (var note in notes) CliWarning.Write(note);
            var spec = new MeasureSpec
            {
                Layer = pr.GetValue(layer),
                Measures = chosen,
                Split = source.Split(pr),
                Samples = source.Samples(pr),
                Variant = pr.GetValue(variant) is { } v ? GeometryMeasures.ParseVariant(v) : null,
                Normalized = pr.GetValue(normalized),
                WeightDecay = pr.GetValue(weightDecay),
                NormalizeFeatures = pr.GetValue(normalizeFeatures),
                Top = pr.GetValue(top),
                Deltas = ParseDeltas(pr.GetValue(deltas)!),
                PlotPath = pr.GetValue(plot),
                Hutchinson = pr.GetValue(hutchinson),
                RelativeStandardError = pr.GetValue(traceError),
                MaxProbes = pr.GetValue(maxProbes),
                TraceSketch = pr.GetValue(traceSketch),
                Float64 = pr.GetValue(float64),
                Seed = pr.GetValue(seed),
            };
            bool asJson = pr.GetValue(source.Json);
            using var store = source.Store(pr);
            var result = WithStatus(asJson, "measuring", progress => MeasureJob.Run(pr.GetValue(source.Run), store,
                pr.GetValue(source.Weights), pr.GetValue(source.Model), pr.GetValue(source.Dataset), pr.GetValue(source.Data),
                pr.GetValue(source.Tensors), spec, progress, ct, Approve(pr.GetValue(yes))));
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            if (result.Missing is not { } missing) return Cli.ExitOk;
            // Cancelled part-way: what is finished was printed (and its plots written); say what is not.
            Cli.Error($"cancelled; not measured: {string.Join(", ", missing)}");
            return Cli.ExitCancelled;
        }, ct));
        return cmd;
    }

    static IReadOnlyList<double> ParseDeltas(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d : throw new BasinException($"--deltas: '{s}' is not a number")).ToArray();

    /// <summary>A cost estimate at least this long is printed (on stderr) before the measures start.</summary>
    public static readonly TimeSpan EstimateAbove = TimeSpan.FromMinutes(1);

    /// <summary>Above this estimate a command run by someone at a terminal stops and asks for --yes.</summary>
    public static readonly TimeSpan AskAbove = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Prints the cost bound when it reaches <see cref="EstimateAbove"/>; above <see cref="AskAbove"/>, with someone at a
    /// terminal (stdin and stderr) and without --yes, stops with the estimate and asks for --yes.
    /// </summary>
    static Action<MeasureCost> Approve(bool yes) => cost =>
    {
        if (cost.Seconds < EstimateAbove.TotalSeconds) return;
        var estimate = $"at most about {Duration(TimeSpan.FromSeconds(cost.Seconds))} ({cost.Products:N0} Hessian-vector products " +
            $"at {cost.SecondsPerProduct:F2} s each; the estimators usually stop sooner)";
        if (!yes && cost.Seconds > AskAbove.TotalSeconds && !Console.IsInputRedirected && !Console.IsErrorRedirected)
            throw new BasinException($"this may take {estimate}, over {Duration(AskAbove)}: pass --yes to go ahead, or measure " +
                "fewer layers or measures");
        Console.Error.WriteLine($"estimate: {estimate}");
    };

    /// <summary>"40 s", "12 min", "3.5 h".</summary>
    public static string Duration(TimeSpan t) => t.TotalSeconds < 90 ? $"{t.TotalSeconds:F0} s"
        : t.TotalMinutes < 90 ? $"{t.TotalMinutes:F0} min" : $"{t.TotalHours:F1} h";

    /// <summary>How often a command that is not on a terminal prints a progress line.</summary>
    internal static readonly TimeSpan PeriodicProgress = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs <paramref name="work"/> under a Spectre status line on a terminal, with periodic lines otherwise; both say
    /// the step and, from the second step on, the time left at the mean pace of the steps so far (steps differ in cost,
    /// so it is a rough guide).
    /// </summary>
    internal static T WithStatus<T>(bool json, string title, Func<IProgress<MeasureProgress>?, T> work)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string Line(MeasureProgress p) => $"{title}: {p.Layer} {p.Measure} ({p.Step}/{p.Steps}{TimeLeft(clock.Elapsed, p.Step, p.Steps)})";
        // Not a terminal: a plain progress line on stderr at most every 10 s (stdout keeps the table or the JSON).
        if (!Cli.Interactive(json))
        {
            var since = System.Diagnostics.Stopwatch.StartNew();
            return work(new Reporter<MeasureProgress>(p =>
            {
                if (since.Elapsed < PeriodicProgress) return;
                Console.Error.WriteLine(Line(p));
                since.Restart();
            }));
        }
        T result = default!;
        AnsiConsole.Status().Start(title,
            ctx => { result = work(new Reporter<MeasureProgress>(p => ctx.Status(Markup.Escape(Line(p))))); });
        return result;
    }

    /// <summary>", about N min left" after <paramref name="step"/> − 1 finished steps took <paramref name="elapsed"/>; empty
    /// before.</summary>
    public static string TimeLeft(TimeSpan elapsed, int step, int steps)
    {
        if (step < 2 || steps < step) return "";
        double left = elapsed.TotalSeconds / (step - 1) * (steps - step + 1);
        return left < 90 ? $", about {left:F0} s left" : $", about {left / 60:F0} min left";
    }

    /// <summary>Reports synchronously on the worker's thread (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
    sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    internal static string Number(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

    static string List(IEnumerable<double> xs) => string.Join(", ", xs.Select(Number));

    static void Render(MeasureResult r)
    {
        var t = new Table().Title(Markup.Escape($"{r.Model} on {r.Dataset} ({r.Split}, {r.Samples} examples)"))
            .AddColumns("layer", "measure", "value", "detail");
        foreach (var l in r.Layers)
        {
            var name = Markup.Escape(l.Layer == MeasureJob.AllParameters ? "all parameters" : l.Layer);
            if (l.RelativeFlatness is { } f)
            {
                var detail = GeometryMeasures.VariantName(f.Variant)
                    + (f.StandardError is double se ? $", ± {Number(se)} ({f.Probes} probes)" : "")
                    + (f.Normalized ? ", /m" : "") + (f.WeightDecay != 0 ? $", α={Number(f.WeightDecay)}" : "")
                    + (f.FeaturesNormalized ? ", normalized features" : "");
                t.AddRow(name, "relative flatness κ", Number(f.Value), Markup.Escape(detail));
            }
            if (l.HessianTrace is { } tr)
                t.AddRow(name, "Hessian trace", Number(tr.Value),
                    Markup.Escape(tr.Method == TraceResult.Exact ? "exact" : $"± {Number(tr.StandardError)} " +
                    $"(hutchinson, {tr.Probes} probes)"));
            if (l.TopEigen is { } e)
                t.AddRow(name, "top eigenvalues", Markup.Escape(List(e.Values)), Markup.Escape($"lanczos, {e.Products} " +
                    $"products{(e.Converged ? "" : ", not converged")}"));
            if (l.GaussNewtonTop is { } g)
                t.AddRow(name, "Gauss-Newton top", Markup.Escape(List(g.Values)), Markup.Escape($"lanczos, {g.Products} " +
                    $"products{(g.Converged ? "" : ", not converged")}"));
            if (l.Outliers is { } o)
                t.AddRow(name, "outliers", o.Count.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape($"top: {List(o.Eigenvalues.Take(Math.Max(o.Count + 2, 3)))}"));
            if (l.Density is { } d)
                t.AddRow(name, "spectral density", Markup.Escape(d.PlotPath ?? "-"), Markup.Escape($"SLQ, σ={Number(d.Sigma)}, mean " +
                    $"eigenvalue {Number(d.MeanEigenvalue)}"));
            if (l.FeatureRobustness is { } fr)
                foreach (var p in fr.Points)
                    t.AddRow(name, Markup.Escape($"feature robustness δ={Number(p.Delta)}"), Markup.Escape($"{Number(p.Empirical)} ± " +
                        $"{Number(p.StandardError)}"), Markup.Escape($"predicted δ²κ/(2m) = {Number(p.Predicted)}"));
        }
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Seconds:F1} s; weights {r.WeightsPath}"));
    }

    /// <summary>The options that say which weights and data to use, shared with `basin reparametrize`.</summary>
    internal sealed class SourceOptions
    {
        public readonly Option<string?> Run = new("--run") { Description = "Use the weights, model and data set of this recorded run " +
            "(id or unique prefix)" };
        public readonly Option<string?> Weights = new("--weights") { Description = "Use this safetensors file (PyTorch-style " +
            "names, e.g. fc3.weight)" };
        public readonly Option<string?> Model = new("--model") { Description = "Model of the weights (default: from the run or the " +
            "file's metadata), e.g. lenet5" };
        public readonly Option<string?> Dataset = new("--dataset") { Description = "Data set (default: the run's, else fashion-mnist)" };
        public readonly Option<string?> Data = new("--data") { Description = "Folder with the IDX files" };
        public readonly Option<string?> Tensors = new("--tensors") { Description = "Use the data in this safetensors file instead: " +
            "'input' [N,...] and 'labels' [N] (int64)" };
        public readonly Option<string> SplitOption = new("--split") { Description = "train or test", DefaultValueFactory = _ => "train" };
        public readonly Option<long> SamplesOption = new("--samples") { Description = "Use the first N examples of the split (0 < N; " +
            "default 2000; -1: all)", DefaultValueFactory = _ => 2000 };
        public readonly Option<bool> Json = Options.Json();
        public readonly Option<string> Runs = Options.Runs();
        public readonly Option<int> Threads = Options.Threads();

        public SourceOptions(long defaultSamples = 2000)
        {
            SplitOption.AcceptOnlyFromAmong("train", "test");
            SamplesOption.DefaultValueFactory = _ => defaultSamples;
            SamplesOption.Description = "Use the first N examples of the split, or all if it has fewer (default " +
                $"{defaultSamples}; -1: all)";
        }

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { Run, Weights, Model, Dataset, Data, Tensors, SplitOption, SamplesOption, Json, Runs, Threads })
                cmd.Options.Add(o);
        }

        public void ApplyThreads(System.CommandLine.ParseResult pr)
        {
            if (global::Basin.Cli.Threads.FromOption(pr.GetValue(Threads)) is { } n) TorchSharp.torch.set_num_threads(n);
        }

        public Split Split(System.CommandLine.ParseResult pr) => pr.GetValue(SplitOption) == "test"
            ? Basin.Data.Split.Test : Basin.Data.Split.Train;

        public long? Samples(System.CommandLine.ParseResult pr) => pr.GetValue(SamplesOption) switch
        {
            -1 => null,
            < 1 and var n => throw new BasinException($"--samples must be at least 1 (or -1 for all), got {n}"),
            var n => n,
        };

        public RunStore? Store(System.CommandLine.ParseResult pr) => pr.GetValue(Run) is not null
            ? RunStore.Open(pr.GetValue(Runs)!) : null;
    }
}
