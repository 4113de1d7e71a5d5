using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// A scatter plot of the gap against one measure, trained models and their reparametrized copies in two colours
/// (ScottPlot). The measure axis is log₁₀ when every finite value is positive and they span more than a factor 100.
/// </summary>
public static class ScatterPlot
{
    /// <returns>False when no model has a finite value (nothing to plot).</returns>
    public static bool Write(SweepReportResult report, string measure, string path)
    {
        var original = Points(report, measure, reparametrized: false);
        var reparam = Points(report, measure, reparametrized: true);
        var all = original.Concat(reparam).Select(p => p.X).ToArray();
        if (all.Length == 0) return false;
        bool log = all.All(x => x > 0) && all.Max() / all.Min() > 100;
        double T(double x) => log ? Math.Log10(x) : x;
        var plot = new ScottPlot.Plot();
        void Series((double X, double Y)[] points, string label, ScottPlot.Color color, ScottPlot.MarkerShape shape)
        {
            if (points.Length == 0) return;
            var s = plot.Add.ScatterPoints(points.Select(p => T(p.X)).ToArray(), points.Select(p => p.Y).ToArray());
            s.LegendText = label;
            s.Color = color;
            s.MarkerShape = shape;
            s.MarkerSize = 8;
        }
        Series(original, "trained", ScottPlot.Colors.Blue, ScottPlot.MarkerShape.FilledCircle);
        Series(reparam, "reparametrized", ScottPlot.Colors.Orange, ScottPlot.MarkerShape.OpenSquare);
        plot.ShowLegend();
        plot.Title($"{report.Sweep}: {measure}");
        plot.XLabel(log ? $"log10({measure})" : measure);
        plot.YLabel(report.Gap == "accuracy" ? "gap (train − test accuracy)" : "gap (test − train loss)");
        var tmp = path + ".tmp.png";
        plot.SavePng(tmp, 640, 480);
        File.Move(tmp, path, overwrite: true);
        return true;
    }

    static (double X, double Y)[] Points(SweepReportResult r, string measure, bool reparametrized) =>
        r.Models.Select(m => (X: (reparametrized ? m.Reparametrized : m.Original).GetValueOrDefault(measure, double.NaN), Y: m.Gap))
            .Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
}
