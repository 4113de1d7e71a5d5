using Basin.IO;

namespace Basin.Experiments.Robustness;

/// <summary>
/// A run's robustness as PNGs (ScottPlot, headless): accuracy against severity per corruption (severity 0 = clean), and
/// the distributions of θ_y (angle between h and W_y) and of ‖h‖ on the clean set against all corrupted sets pooled.
/// </summary>
public static class RobustnessPlot
{
    const int Bins = 40;

    /// <summary>Writes accuracy-ID.png, angle-ID.png and length-ID.png into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Save(RunRobustness run, IReadOnlyList<double> cleanTheta, IReadOnlyList<double> corruptedTheta,
        IReadOnlyList<double> cleanNorm, IReadOnlyList<double> corruptedNorm, string folder)
    {
        var files = new List<string>();
        var accuracy = new ScottPlot.Plot();
        accuracy.Add.Palette = new ScottPlot.Palettes.Category20();
        var clean = run.Cells.First(c => c.Severity == 0);
        foreach (var group in run.Cells.Where(c => c.Severity > 0).GroupBy(c => c.Corruption))
        {
            var points = group.OrderBy(c => c.Severity).ToArray();
            var line = accuracy.Add.Scatter(points.Select(c => (double)c.Severity).Prepend(0).ToArray(),
                points.Select(c => 100 * c.Accuracy).Prepend(100 * clean.Accuracy).ToArray());
            line.LegendText = group.Key;
            line.MarkerSize = 4;
        }
        accuracy.Title($"run {run.RunId} ({run.Model}, weight sparsity {100 * run.WeightSparsity:F1}%)");
        accuracy.XLabel("severity (0 = clean)");
        accuracy.YLabel("test accuracy (%)");
        accuracy.ShowLegend(ScottPlot.Edge.Right);
        files.Add(Write(accuracy, Path.Combine(folder, $"accuracy-{run.RunId}.png"), 1000, 560));
        files.Add(Write(Distributions(run, "θ_y, angle between h and W_y (degrees)", cleanTheta, corruptedTheta),
            Path.Combine(folder, $"angle-{run.RunId}.png"), 800, 500));
        files.Add(Write(Distributions(run, "‖h‖, length of the penultimate feature", cleanNorm, corruptedNorm),
            Path.Combine(folder, $"length-{run.RunId}.png"), 800, 500));
        return files;
    }

    /// <summary>
    /// The model × corruption heat map: per run (row) and set (column: clean, then each corruption averaged over its
    /// severities), accuracy minus the first run's, in points.
    /// </summary>
    public static string SaveHeatmap(IReadOnlyList<RunRobustness> runs, string path)
    {
        var columns = runs[0].Cells.Select(c => c.Corruption).Distinct().ToArray();
        double Mean(RunRobustness r, string name) => r.Cells.Where(c => c.Corruption == name).Average(c => c.Accuracy);
        var values = new double[runs.Count, columns.Length];
        for (int i = 0; i < runs.Count; i++)
            for (int j = 0; j < columns.Length; j++) values[i, j] = 100 * (Mean(runs[i], columns[j]) - Mean(runs[0], columns[j]));
        var plot = new ScottPlot.Plot();
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(map).Label = "points";
        var x = new ScottPlot.TickGenerators.NumericManual();
        for (int j = 0; j < columns.Length; j++) x.AddMajor(j, columns[j]);
        plot.Axes.Bottom.TickGenerator = x;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 120;
        var y = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < runs.Count; i++) y.AddMajor(runs.Count - 1 - i, runs[i].RunId);
        plot.Axes.Left.TickGenerator = y;
        plot.Title($"accuracy minus run {runs[0].RunId}'s, per corruption (mean over severities)");
        return Write(plot, path, 260 + 60 * columns.Length, 260 + 40 * runs.Count);
    }

    static ScottPlot.Plot Distributions(RunRobustness run, string what, IReadOnlyList<double> clean, IReadOnlyList<double> corrupted)
    {
        var plot = new ScottPlot.Plot();
        var all = clean.Concat(corrupted).Where(double.IsFinite).ToArray();
        if (all.Length > 0)
        {
            double lo = all.Min(), hi = all.Max();
            if (hi <= lo) hi = lo + 1;
            foreach (var (values, label) in new[] { (clean, "clean"), (corrupted, "corrupted (all sets)") })
            {
                var (x, y) = Histogram(values, lo, hi);
                var s = plot.Add.Scatter(x, y);
                s.ConnectStyle = ScottPlot.ConnectStyle.StepHorizontal;
                s.MarkerSize = 0;
                s.LineWidth = 2;
                s.LegendText = label;
            }
        }
        plot.Title($"run {run.RunId}: {what}");
        plot.XLabel(what);
        plot.YLabel("fraction of samples");
        plot.ShowLegend();
        return plot;
    }

    /// <summary>Fractions of the finite values per bin of [lo, hi]; x is each bin's left edge (plus the right end).</summary>
    static (double[] X, double[] Y) Histogram(IReadOnlyList<double> values, double lo, double hi)
    {
        var counts = new double[Bins + 1];
        var finite = values.Where(double.IsFinite).ToArray();
        foreach (var v in finite) counts[Math.Min(Bins - 1, (int)((v - lo) / (hi - lo) * Bins))]++;
        for (int i = 0; i < Bins; i++) counts[i] /= Math.Max(1, finite.Length);
        counts[Bins] = counts[Bins - 1];
        return (Enumerable.Range(0, Bins + 1).Select(i => lo + i * (hi - lo) / Bins).ToArray(), counts);
    }

    static string Write(ScottPlot.Plot plot, string path, int width, int height)
    {
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(bytes));
        return path;
    }
}
