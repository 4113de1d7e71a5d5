using Basin.IO;

namespace Basin.Experiments.Pruning;

/// <summary>
/// Node random search as a PNG (ScottPlot, headless): final test accuracy against node sparsity for every random control
/// (small dots), their mean, the search's pick, and the dense parent (horizontal line).
/// </summary>
public static class SparseSearchPlot
{
    public static void Save(SparseSearchResult result, string path, int width = 900, int height = 520)
    {
        var plot = new ScottPlot.Plot();
        var s = result.Sparsities;
        var controls = plot.Add.ScatterPoints(s.SelectMany(x => x.Random.Select(_ => 100 * x.NodeSparsity)).ToArray(),
            s.SelectMany(x => x.Random.Select(r => 100 * r.TestAccuracy)).ToArray());
        controls.LegendText = "random masks";
        controls.MarkerSize = 5;
        var mean = plot.Add.Scatter(s.Select(x => 100 * x.NodeSparsity).ToArray(),
            s.Select(x => 100 * x.RandomAccuracy.Estimate).ToArray());
        mean.LegendText = "random masks, mean";
        mean.LinePattern = ScottPlot.LinePattern.Dashed;
        var search = plot.Add.Scatter(s.Select(x => 100 * x.NodeSparsity).ToArray(), s.Select(x => 100 * x.Search.TestAccuracy).ToArray());
        search.LegendText = "random search pick";
        search.MarkerSize = 9;
        search.LineWidth = 2;
        var dense = plot.Add.HorizontalLine(100 * result.Dense.TestAccuracy);
        dense.LegendText = "dense parent";
        plot.Title($"node random search, run {result.SourceRun} ({result.Model})");
        plot.XLabel($"node sparsity (%); candidates scored by {result.Score} after {result.ScoreSteps} steps");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(ScottPlot.Edge.Right);
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
