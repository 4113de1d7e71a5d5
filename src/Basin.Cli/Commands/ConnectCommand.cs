using System.CommandLine;
using System.Globalization;
using Basin.Experiments.Landscape;
using Basin.Landscape;
using Basin.IO;
using Basin.Experiments;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin connect RUN_A RUN_B`: mode connectivity, a trained curve against the straight line.</summary>
public static class ConnectCommand
{
    static readonly ConnectSpec D = new() { RunA = "", RunB = "" };

    public static Command Create()
    {
        var runA = new Argument<string>("RUN_A") { Description = "The first training run (t = 0)" };
        var runB = new Argument<string>("RUN_B") { Description = "The second training run (t = 1), same model and data set" };
        var curve = new Option<string>("--curve") { Description = "bezier (quadratic) or polychain (one bend)",
            DefaultValueFactory = _ => "bezier" };
        curve.AcceptOnlyFromAmong("bezier", "polychain");
        var epochs = new Option<int>("--epochs") { Description = "Epochs of curve training", DefaultValueFactory = _ => D.Training.Epochs };
        var lr = new Option<double>("--lr") { Description = "SGD learning rate of the control point (momentum 0.9, the reference schedule)",
            DefaultValueFactory = _ => D.Training.LearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size (t is drawn once per mini-batch)",
            DefaultValueFactory = _ => D.Training.BatchSize };
        var wd = new Option<double>("--weight-decay") { Description = "L2 on the curve point θ(t) during training (barriers are always " +
            "on plain cross-entropy)", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<long>("--seed") { Description = "Seed of the shuffling and of t", DefaultValueFactory = _ => 0L };
        var align = new Option<bool>("--align") { Description = "Permute RUN_B's hidden units to match RUN_A first " +
            "(weight matching; MLPs)" };
        var samples = new Option<long>("--samples") { Description = "Training examples (the first N) to train and evaluate on",
            DefaultValueFactory = _ => D.Samples };
        var testSamples = new Option<long>("--test-samples") { Description = "Test examples (0: none)",
            DefaultValueFactory = _ => D.TestSamples };
        var points = new Option<int>("--points") { Description = "Values of t in [0, 1] to evaluate", DefaultValueFactory = _ => D.Points };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUNS/RUN_A/connect-…)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("connect", """
            Connect two trained models of one architecture: evaluate the straight line between them, train the control point of a
            quadratic Bézier curve (or a one-bend polygonal chain) to minimize the mean loss along it (t ~ U(0, 1) per mini-batch, end
            points fixed), and compare loss, accuracy and barriers (plain cross-entropy) along both. Writes connect.csv, connect.json,
            connect.png and the control point's weights.
            Example: basin connect 20261122-1701 20261122-1702 --curve bezier --epochs 10
            """) { runA, runB, curve, epochs, lr, batch, wd, seed, align, samples, testSamples, points, output, json, runs, threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            if (Threads.FromOption(pr.GetValue(threads)) is { } n) TorchSharp.torch.set_num_threads(n);
            var spec = new ConnectSpec
            {
                RunA = pr.GetValue(runA)!, RunB = pr.GetValue(runB)!,
                Curve = pr.GetValue(curve) == "polychain" ? CurveKind.PolyChain : CurveKind.Bezier,
                Training = new CurveTrainingOptions { Epochs = pr.GetValue(epochs), LearningRate = pr.GetValue(lr),
                    BatchSize = pr.GetValue(batch), WeightDecay = pr.GetValue(wd), Seed = pr.GetValue(seed) },
                Align = pr.GetValue(align), Samples = pr.GetValue(samples), TestSamples = pr.GetValue(testSamples),
                Points = pr.GetValue(points), Output = pr.GetValue(output),
            };
            spec.Check();
            bool asJson = pr.GetValue(json);
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var r = LandscapeView.Run(asJson, "connect", p => ConnectJob.Run(spec, store, p, ct));
            if (asJson) Console.WriteLine(Json.Serialize(r));
            else Render(r);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static string N(double x) => double.IsNaN(x) ? "NaN" : x.ToString("G5", CultureInfo.InvariantCulture);

    static void Render(ConnectResult r)
    {
        var t = new Table().Title(Markup.Escape($"{r.Model} on {r.Dataset}: run {r.RunA} → run {r.RunB}, {r.CurveKind} curve " +
            $"({r.Training.Epochs} epochs)"))
            .AddColumns("path", "data", "loss at ends (nats)", "max loss (nats)", "barrier above higher end (nats)",
                "barrier above chord (nats)", "min accuracy (%)");
        void Row(string path, string data, PathProfile? p)
        {
            if (p is null) return;
            t.AddRow(path, data, Markup.Escape($"{N(p.Loss[0])}, {N(p.Loss[^1])}"), N(p.Loss.Max()), N(p.Barrier.Max), N(p.Barrier.Chord),
                N(100 * p.Accuracy.Min()));
        }
        Row("line", $"train ({r.TrainExamples})", r.Line);
        Row(r.CurveKind, $"train ({r.TrainExamples})", r.Curve);
        Row("line", $"test ({r.TestExamples})", r.LineTest);
        Row(r.CurveKind, $"test ({r.TestExamples})", r.CurveTest);
        AnsiConsole.Write(t);
        if (r.Alignment is not null) AnsiConsole.MarkupLine(Markup.Escape($"aligned: {r.Alignment.UnitsMoved} hidden units of " +
            $"run {r.RunB} permuted"));
        foreach (var f in r.Files) AnsiConsole.MarkupLine($"wrote {Markup.Escape(f)}");
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Seconds:F1} s"));
    }
}
