using Basin.IO;

namespace Basin.Experiments.Pruning;

/// <summary>
/// A pruning job as a PNG (ScottPlot, headless): test accuracy (left axis) and the dead-neuron rate (right axis, all
/// units and without the structurally dead ones) against the sparsity of each round, round 0 being the dense run.
/// </summary>
public static class PrunePlot
{
    public static void Save(PruneJobResult result, string path, int width = 900, int height = 520)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new ScottPlot.Plot();
        double[] sparsity = result.Rounds.Select(r => 100 * r.Sparsity).ToArray();
        var accuracy = plot.Add.Scatter(sparsity, result.Rounds.Select(r => 100 * r.TestAccuracy).ToArray());
        accuracy.LegendText = "test accuracy (left)";
        accuracy.LineWidth = 2;
        accuracy.MarkerSize = 6;
        var withDnr = result.Rounds.Where(r => r.Dnr is not null).ToArray();
        if (withDnr.Length > 0)
        {
            double[] x = withDnr.Select(r => 100 * r.Sparsity).ToArray();
            var dnr = plot.Add.Scatter(x, withDnr.Select(r => 100 * r.Dnr!.Overall).ToArray());
            dnr.LegendText = "DNR, all units (right)";
            dnr.Axes.YAxis = plot.Axes.Right;
            dnr.LinePattern = ScottPlot.LinePattern.Dashed;
            var structural = plot.Add.Scatter(x, withDnr.Select(r => 100 * r.Dnr!.OverallExcludingStructural).ToArray());
            structural.LegendText = "DNR, structurally dead units left out (right)";
            structural.Axes.YAxis = plot.Axes.Right;
            structural.LinePattern = ScottPlot.LinePattern.Dotted;
            plot.Axes.Right.Label.Text = "dead-neuron rate (%)";
        }
        plot.Title($"{result.Method} on {result.SourceRun} ({result.Model}, {result.Dataset}), rewind {result.Rewind}");
        plot.XLabel("sparsity of the prunable weights (%)");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
