using Basin.IO;
using Basin.Landscape;
using ScottPlot;

namespace Basin.Experiments.Landscape;

/// <summary>PNG figures of loss landscapes (ScottPlot, headless): line plots for 1-D slices and paths, contour lines over a heat map for
/// 2-D.</summary>
public static class LandscapePlots
{
    public static void Save(LandscapeResult r, string path)
    {
        var title = $"{r.Model} on {r.Dataset}, run {r.Run}: " + (r.To is null ? $"{r.Directions} directions" : $"towards run {r.To}");
        if (r.Dims == 1) Line(r, path, title);
        else Plane(r, path, title);
    }

    static void Line(LandscapeResult r, string path, string title)
    {
        var plot = new Plot();
        var xs = r.Alphas.ToArray();
        AddCurve(plot, xs, r.Train.Loss[0], $"train loss ({r.Train.Examples} examples)");
        if (r.Test is not null) AddCurve(plot, xs, r.Test.Loss[0], $"test loss ({r.Test.Examples} examples)");
        var origin = plot.Add.Marker(0, r.OwnLoss);
        origin.LegendText = "the model";
        origin.MarkerSize = 9;
        if (r.To is not null)
        {
            var end = plot.Add.VerticalLine(1);
            end.LinePattern = LinePattern.Dashed;
            end.LegendText = $"run {r.To}";
        }
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 13;
        plot.XLabel(r.Directions == "to" ? "t (0: this run, 1: the other)" : "α");
        plot.YLabel("cross-entropy");
        plot.ShowLegend(Edge.Bottom);
        Write(path, plot.GetImageBytes(800, 500, ImageFormat.Png));
    }

    static void AddCurve(Plot plot, double[] xs, IReadOnlyList<double> ys, string label)
    {
        // NaN points (overflowed losses) are left out of the line, not drawn as zero.
        var keep = Enumerable.Range(0, xs.Length).Where(i => double.IsFinite(ys[i])).ToArray();
        if (keep.Length == 0) return;
        var line = plot.Add.ScatterLine(keep.Select(i => xs[i]).ToArray(), keep.Select(i => ys[i]).ToArray());
        line.LineWidth = 1.5f;
        line.LegendText = label;
    }

    static void Plane(LandscapeResult r, string path, string title)
    {
        var alphas = r.Alphas.ToArray();
        var betas = r.Betas!.ToArray();
        var loss = r.Train.Loss;
        int na = alphas.Length, nb = betas.Length;
        var plot = new Plot();
        // Heat map of log10 loss: rows are β (top row = largest β), columns α.
        var intensities = new double[nb, na];
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++)
                intensities[nb - 1 - j, i] = double.IsFinite(loss[i][j]) && loss[i][j] > 0 ? Math.Log10(loss[i][j]) : double.NaN;
        var heat = plot.Add.Heatmap(intensities);
        double da = (alphas[^1] - alphas[0]) / (na - 1), db = (betas[^1] - betas[0]) / (nb - 1);
        heat.Extent = new CoordinateRect(alphas[0] - da / 2, alphas[^1] + da / 2, betas[0] - db / 2, betas[^1] + db / 2);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heat).Label = "log10 train loss";
        // Contour lines of the loss itself (rows β, columns α), at 12 levels over the finite range; overflowed points are left out.
        var points = new List<Coordinates3d>();
        for (int j = 0; j < nb; j++)
            for (int i = 0; i < na; i++)
                if (double.IsFinite(loss[i][j])) points.Add(new Coordinates3d(alphas[i], betas[j], loss[i][j]));
        if (points.Count >= 3)
        {
            var contours = new ScottPlot.Plottables.ContourLines { LineColor = Colors.White };
            contours.Update(points);
            plot.Add.Plottable(contours);
        }
        var origin = plot.Add.Marker(0, 0);
        origin.MarkerSize = 10;
        origin.Color = Colors.Red;
        origin.LegendText = $"the model (loss {r.OwnLoss:G4})";
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 13;
        plot.XLabel(r.Directions == "to" ? "t towards the other run" : "α (direction 1)");
        plot.YLabel("β (direction 2)");
        plot.ShowLegend();
        Write(path, plot.GetImageBytes(760, 640, ImageFormat.Png));
    }

    /// <summary>Loss along the straight line (dashed) and along the trained curve (solid), train in blue and test in orange.</summary>
    public static void SavePaths(ConnectResult r, string path)
    {
        var plot = new Plot();
        var train = Colors.C0;
        var test = Colors.C1;
        AddCurve(plot, r.Line.Ts.ToArray(), r.Line.Loss, "line, train", train, LinePattern.Dashed);
        AddCurve(plot, r.Curve.Ts.ToArray(), r.Curve.Loss, $"{r.CurveKind}, train", train, LinePattern.Solid);
        if (r.LineTest is not null) AddCurve(plot, r.LineTest.Ts.ToArray(), r.LineTest.Loss, "line, test", test, LinePattern.Dashed);
        if (r.CurveTest is not null) AddCurve(plot, r.CurveTest.Ts.ToArray(), r.CurveTest.Loss, $"{r.CurveKind}, test", test,
            LinePattern.Solid);
        plot.Title($"{r.Model}: run {r.RunA} (t = 0) to run {r.RunB} (t = 1)");
        plot.Axes.Title.Label.FontSize = 13;
        plot.XLabel("t");
        plot.YLabel("cross-entropy");
        plot.ShowLegend(Edge.Bottom);
        Write(path, plot.GetImageBytes(800, 500, ImageFormat.Png));
    }

    static void AddCurve(Plot plot, double[] xs, IReadOnlyList<double> ys, string label, Color color, LinePattern pattern)
    {
        AddCurve(plot, xs, ys, label);
        if (plot.GetPlottables().LastOrDefault() is ScottPlot.Plottables.Scatter line && line.LegendText == label)
        {
            line.Color = color;
            line.LinePattern = pattern;
        }
    }

    static void Write(string path, byte[] bytes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
