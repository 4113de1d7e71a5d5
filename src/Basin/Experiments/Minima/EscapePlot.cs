using Basin.IO;
using Basin.Minima;

namespace Basin.Experiments.Minima;

/// <summary>Draws the loss along an escape path as a PNG (ScottPlot, headless): the line walk, the escape step and the descent.</summary>
public static class EscapePlot
{
    public static void Save(EscapeResult escape, string path, int width = 800, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(escape);
        var plot = new ScottPlot.Plot();
        foreach (var phase in Enum.GetValues<EscapePhase>())
        {
            var points = escape.Points.Where(p => p.Phase == phase).ToArray();
            if (points.Length == 0) continue;
            var s = plot.Add.Scatter(points.Select(p => (double)p.Index).ToArray(), points.Select(p => p.Loss).ToArray());
            s.LegendText = phase switch
            {
                EscapePhase.Line => $"line λ = {escape.From:G3} → {escape.To:G3} (constant loss)",
                EscapePhase.Escape => "step along the most negative eigenvector",
                _ => "descent (L-BFGS, Armijo backtracking)",
            };
            s.MarkerSize = phase == EscapePhase.Descent ? 2 : 6;
            s.LineWidth = 1.5f;
        }
        var level = plot.Add.HorizontalLine(escape.StartLoss);
        level.LinePattern = ScottPlot.LinePattern.Dashed;
        level.LegendText = $"L* = {escape.StartLoss:G6}";
        plot.Title($"Escape from a split minimum of {escape.Network}: loss {escape.StartLoss:G5} → {escape.EndLoss:G5}");
        plot.XLabel("recorded step");
        plot.YLabel("loss");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
