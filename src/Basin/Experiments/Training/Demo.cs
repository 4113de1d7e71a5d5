using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Experiments.Reports;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using SkiaSharp;

namespace Basin.Experiments.Training;

/// <summary>One method's line in the demo: what the run measured, plus the geometry columns.</summary>
public sealed record DemoRow(string Method, string Model, double? TestAccuracy, double? AccuracyGap, double? LossGap, double SecondsPerStep,
    string RunId)
{
    public double? TrainAccuracy { get; init; }
    // The head's geometry on the first Demo.GeometrySamples training examples, under the catalog's names: relative
    // flatness κ_Tr of its weight (closed form), the exact trace of the Hessian by its weight (bias not included), and
    // that Hessian's largest eigenvalue (Lanczos).
    public double? RelativeFlatnessHead { get; init; }
    public double? HessianTraceHeadWeight { get; init; }
    public double? LambdaMaxHeadWeight { get; init; }

    public static DemoRow Of(string method, TrainJobResult r) =>
        new(method, r.Model, r.Figures.TestAccuracy, r.Figures.AccuracyGap, r.Figures.Gap, r.Figures.SecondsPerStep, r.RunId)
        {
            TrainAccuracy = r.Figures.TrainAccuracy,
        };
}

/// <summary>
/// The demo: SGD, SAM, FAM and SAF (docs/methods.md) train LeNet-5 on the same Fashion-MNIST subset with the same
/// seed and base recipe (SGD, momentum 0.9, lr 0.05), each recorded as a run; the results table goes to JSON and a
/// PNG bar chart. The default size (20,000 training and 5,000 test images, 3 epochs) keeps the whole demo within
/// a few minutes on 2 cores. SAF compares with the logits of one epoch earlier from the second epoch on. The demo ends
/// with an HTML report comparing its runs (<see cref="WriteReport"/>).
/// </summary>
public static class Demo
{
    public static readonly string[] Methods = ["sgd", "sam", "fam", "saf"];
    public const long DefaultSamples = 20_000;
    public const long DefaultTestSamples = 5_000;
    public const int DefaultEpochs = 3;
    /// <summary>The geometry columns are measured on the first this-many training examples.</summary>
    public const int GeometrySamples = 2_000;

    /// <summary>The training specs the demo runs, one per method.</summary>
    public static IReadOnlyList<TrainJobSpec> Specs(long? samples = DefaultSamples, long? testSamples = DefaultTestSamples,
        int epochs = DefaultEpochs, long seed = 1, string? dataPath = null, IReadOnlyList<string>? methods = null,
        string model = "lenet5") =>
        (methods ?? Methods).Select(m => new TrainJobSpec
        {
            Dataset = "fashion-mnist",
            DataPath = dataPath,
            Samples = samples,
            TestSamples = testSamples,
            Model = model,
            Optimizer = "sgd",
            LearningRate = 0.05,
            Momentum = 0.9,
            Epochs = epochs,
            BatchSize = 128,
            Seed = seed,
            Method = m,
        }.With("safLag", 1).With("safStart", 1)).ToList();

    /// <summary>
    /// The demo's row for a finished run, with the relative flatness κ_Tr of the trained head on the run's training
    /// set (closed form, unnormalized; "Relative Flatness and Generalization"), the trace of the Hessian by the head's
    /// weight and its largest eigenvalue, all on the first <see cref="GeometrySamples"/> training examples.
    /// </summary>
    public static DemoRow Row(TrainJobSpec spec, TrainJobResult result)
    {
        var (train, test) = TrainingJob.LoadData(spec);
        using var _train = train;
        using var _test = test;
        using var model = ModelSpec.Create(result.Model, train.ExampleShape, train.ClassCount, spec.Seed);
        Weights.Load(model, result.WeightsPath);
        var g = MeasureJob.Summarize(model, train, GeometrySamples);
        return DemoRow.Of(spec.Method, result) with
        {
            RelativeFlatnessHead = g.RelativeFlatness, HessianTraceHeadWeight = g.HessianTrace, LambdaMaxHeadWeight = g.LambdaMax,
        };
    }

    /// <summary>
    /// Writes the HTML report of the demo's runs into <paramref name="folder"/>: their comparison (curves overlaid, final
    /// figures with differences from the first method), or the one run's report when only one method ran. The head's
    /// geometry (not stored in the run database) joins each run's final figures under the names demo.json gives it.
    /// </summary>
    public static ReportFiles WriteReport(RunStore store, IReadOnlyList<DemoRow> rows, string folder) =>
        ReportJob.Write(store, rows.Select(r => r.RunId).ToList(), compare: rows.Count > 1, folder,
            rows.ToDictionary(r => r.RunId, r => (IReadOnlyList<ReportFigure>)
            [
                new("relativeFlatnessHead", r.RelativeFlatnessHead), new("hessianTraceHeadWeight", r.HessianTraceHeadWeight),
                new("lambdaMaxHeadWeight", r.LambdaMaxHeadWeight),
            ]));

    /// <summary>Writes the rows as JSON (Basin's conventions) to <paramref name="path"/>.</summary>
    public static void WriteJson(IReadOnlyList<DemoRow> rows, string path) => AtomicFile.WriteAllText(path, Json.Serialize(rows));

    /// <summary>A PNG with two bar panels: test accuracy (%) and the accuracy gap (train − test, percentage points) per
    /// method; <paramref name="title"/> (the setting: data, model, sizes, epochs, seed) heads both.</summary>
    public static void WriteChart(IReadOnlyList<DemoRow> rows, string path, string title = "Fashion-MNIST, LeNet-5")
    {
        var accuracy = Panel(rows, r => 100 * (r.TestAccuracy ?? double.NaN), "test accuracy (%)", $"{title}\ntest accuracy");
        var gap = Panel(rows, r => 100 * (r.AccuracyGap ?? double.NaN), "train − test accuracy (points)", $"{title}\naccuracy gap");
        const int width = 500, height = 420;
        using var left = SKBitmap.Decode(accuracy.GetImageBytes(width, height, ScottPlot.ImageFormat.Png));
        using var right = SKBitmap.Decode(gap.GetImageBytes(width, height, ScottPlot.ImageFormat.Png));
        using var both = new SKBitmap(2 * width, height);
        using (var canvas = new SKCanvas(both))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(left, 0, 0);
            canvas.DrawBitmap(right, width, 0);
        }
        using var png = both.Encode(SKEncodedImageFormat.Png, 100);
        var bytes = png.ToArray();
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    static ScottPlot.Plot Panel(IReadOnlyList<DemoRow> rows, Func<DemoRow, double> value, string axis, string title)
    {
        var plot = new ScottPlot.Plot();
        var bars = rows.Select((r, i) => new ScottPlot.Bar { Position = i, Value = value(r), Label = value(r).ToString("F1") }).ToArray();
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => r.Method).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.YLabel(axis);
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 13;   // the setting (data, model, sizes, epochs, seed) fits the panel's width
        return plot;
    }
}
