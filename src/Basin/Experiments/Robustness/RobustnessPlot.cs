using Basin.IO;
using Basin.Robustness;

namespace Basin.Experiments.Robustness;

/// <summary>
/// A run's robustness as PNGs (ScottPlot, headless): accuracy against severity per corruption (severity 0 = clean), the
/// distributions of θ_y (angle between h and W_y) and of ‖h‖ on the clean set against all corrupted sets pooled, and
/// both at once as a polar scatter; across runs, the heat map, the dendrogram of method similarity and the sample
/// thumbnails.
/// </summary>
public static class RobustnessPlot
{
    const int Bins = 40;
    /// <summary>The polar scatter draws at most this many corrupted samples (evenly strided), so the clean ones stay visible.</summary>
    public const int MaxPolarPoints = 20_000;

    /// <summary>
    /// Writes accuracy-ID.png, angle-ID.png, length-ID.png and polar-ID.png into <paramref name="folder"/>; returns their
    /// paths. The corrupted lists hold the same samples in the same order (θ and ‖h‖ of one sample at one index).
    /// </summary>
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
        files.Add(Write(Polar(run, cleanTheta, cleanNorm, corruptedTheta, corruptedNorm), Path.Combine(folder,
            $"polar-{run.RunId}.png"), 760, 560));
        return files;
    }

    /// <summary>
    /// Each sample at angle θ_y (degrees, 0 to the right, counter-clockwise) and radius ‖h‖: corrupted samples (all sets,
    /// at most <see cref="MaxPolarPoints"/>) under the clean ones. Samples without a finite angle (h = 0) are left out.
    /// </summary>
    static ScottPlot.Plot Polar(RunRobustness run, IReadOnlyList<double> cleanTheta, IReadOnlyList<double> cleanNorm,
        IReadOnlyList<double> corruptedTheta, IReadOnlyList<double> corruptedNorm)
    {
        var plot = new ScottPlot.Plot();
        var (corrupted, clean) = (PolarPoints(corruptedTheta, corruptedNorm, MaxPolarPoints), PolarPoints(cleanTheta, cleanNorm,
            int.MaxValue));
        double radius = corrupted.Concat(clean).Select(p => p.R).DefaultIfEmpty(1).Max();
        if (!(radius > 0)) radius = 1;
        var axis = plot.Add.PolarAxis(radius);
        axis.Clockwise = false;
        var radii = Enumerable.Range(1, 4).Select(i => radius * i / 4).ToArray();
        axis.SetCircles(radii, radii.Select(r => r.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        axis.SetSpokes(12, radius, true);
        foreach (var (points, label, color) in new[] { (corrupted, "corrupted (all sets)", ScottPlot.Colors.OrangeRed.WithAlpha(0.25)),
            (clean, "clean", ScottPlot.Colors.Navy.WithAlpha(0.6)) })
        {
            if (points.Length == 0) continue;
            var xy = points.Select(p => axis.GetCoordinates(p.R, p.Degrees)).ToArray();
            var scatter = plot.Add.ScatterPoints(xy.Select(c => c.X).ToArray(), xy.Select(c => c.Y).ToArray());
            scatter.MarkerSize = 3;
            scatter.Color = color;
            scatter.LegendText = label;
        }
        plot.Title($"run {run.RunId}: per sample, θ_y (degrees) and ‖h‖ (circles)");
        plot.ShowLegend();
        plot.HideGrid();
        foreach (var side in new ScottPlot.IAxis[] { plot.Axes.Bottom, plot.Axes.Left, plot.Axes.Right }) side.IsVisible = false;
        plot.Axes.Top.FrameLineStyle.Width = 0;
        return plot;
    }

    /// <summary>
    /// The points of the polar scatter: the (θ, ‖h‖) pairs where both are finite, every k-th of them for the smallest k that
    /// leaves at most <paramref name="most"/>.
    /// </summary>
    public static (double Degrees, double R)[] PolarPoints(IReadOnlyList<double> theta, IReadOnlyList<double> norm, int most)
    {
        if (theta.Count != norm.Count) throw new ArgumentException($"{theta.Count} angles but {norm.Count} lengths");
        var finite = Enumerable.Range(0, theta.Count).Where(i => double.IsFinite(theta[i]) && double.IsFinite(norm[i])).ToArray();
        int stride = (int)Math.Max(1, (finite.LongLength + most - 1) / most);
        return finite.Where((_, k) => k % stride == 0).Select(i => (theta[i], norm[i])).ToArray();
    }

    /// <summary>
    /// The dendrogram of method similarity: runs (leaves, in <see cref="Dendrogram.LeafOrder"/>) joined at the height of
    /// their average-linkage distance, 1 − per-sample agreement (<paramref name="what"/> says on which sets).
    /// </summary>
    public static string SaveDendrogram(IReadOnlyList<string> runIds, IReadOnlyList<DendrogramMerge> merges, string what, string path)
    {
        int n = runIds.Count;
        var order = Dendrogram.LeafOrder(merges, n);
        var x = new double[2 * n - 1];
        var height = new double[2 * n - 1];
        for (int i = 0; i < n; i++) x[order[i]] = i;
        var plot = new ScottPlot.Plot();
        for (int k = 0; k < merges.Count; k++)
        {
            var m = merges[k];
            int id = n + k;
            x[id] = (x[m.Left] + x[m.Right]) / 2;
            height[id] = m.Height;
            var line = plot.Add.Scatter(new[] { x[m.Left], x[m.Left], x[m.Right], x[m.Right] },
                new[] { height[m.Left], m.Height, m.Height, height[m.Right] });
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.Color = ScottPlot.Colors.Navy;
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < n; i++) ticks.AddMajor(i, runIds[order[i]]);
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 140;
        plot.Axes.Right.MinimumSize = 120;   // room for the last leaf's slanted label
        plot.Axes.SetLimitsX(-0.5, n - 0.5);
        plot.Axes.SetLimitsY(0, Math.Max(1e-3, merges.Select(m => m.Height).DefaultIfEmpty(0).Max() * 1.08));
        plot.YLabel($"1 − per-sample agreement ({what})");
        plot.Title("method similarity: average-linkage dendrogram");
        return Write(plot, path, 320 + 70 * n, 520);
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

    /// <summary>
    /// The sample thumbnails: one row per sample of <paramref name="grid"/> (most fragile, then most robust), labelled with
    /// its index, label and correct fraction over all (run, corrupted set) cells; one column per set; grey levels 0 to 1.
    /// </summary>
    public static string SaveThumbnails(ThumbnailGrid grid, double[,][,] images, string path)
    {
        if (images.GetLength(0) != grid.Rows.Count || images.GetLength(1) != grid.Columns.Count)
            throw new ArgumentException($"{images.GetLength(0)}×{images.GetLength(1)} images for a {grid.Rows.Count}×" +
                $"{grid.Columns.Count} grid");
        const double Tile = 0.9;
        var plot = new ScottPlot.Plot();
        var rowTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int r = 0; r < grid.Rows.Count; r++)
        {
            var row = grid.Rows[r];
            double top = -r - (row.Group == ThumbnailGrid.Robust ? 0.5 : 0);   // a gap between the two groups
            for (int c = 0; c < grid.Columns.Count; c++)
            {
                var map = plot.Add.Heatmap(images[r, c]);
                map.Colormap = new ScottPlot.Colormaps.Grayscale();
                map.ManualRange = new ScottPlot.Range(0, 1);
                map.Rectangle = new ScottPlot.CoordinateRect(c, c + Tile, top - Tile, top);
            }
            rowTicks.AddMajor(top - Tile / 2, $"{row.Group} #{row.Sample}, label {row.Label}, {100 * row.CorrectFraction:F0}% correct");
        }
        var columnTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < grid.Columns.Count; c++)
        {
            var column = grid.Columns[c];
            columnTicks.AddMajor(c + Tile / 2, column.Severity == 0 ? column.Corruption : $"{column.Corruption} {column.Severity}");
        }
        plot.Axes.Left.TickGenerator = rowTicks;
        plot.Axes.Bottom.TickGenerator = columnTicks;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 150;
        plot.HideGrid();
        plot.Axes.SetLimitsX(-0.05, grid.Columns.Count);
        plot.Axes.SetLimitsY(-grid.Rows.Count - 0.6, 0.1);
        plot.Title("most fragile (top) and most robust test samples: clean and at each corruption's middle severity");
        return Write(plot, path, 320 + 56 * grid.Columns.Count, 160 + 56 * grid.Rows.Count);
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
