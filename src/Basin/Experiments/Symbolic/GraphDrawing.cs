using Basin.IO;
using Basin.Symbolic;

namespace Basin.Experiments.Symbolic;

/// <summary>
/// Draws a program's graph as a PNG (ScottPlot, headless): nodes as labelled dots, edges as lines labelled with their
/// ids, laid out by a deterministic spring embedding (Fruchterman and Reingold, "Graph drawing by force-directed
/// placement") started from a circle, so the same graph always gives the same picture.
/// </summary>
public static class GraphDrawing
{
    const int Iterations = 300;

    /// <summary>Positions of the nodes, in the order of <see cref="ElementGraph.Nodes"/>, inside the unit square.</summary>
    public static (double X, double Y)[] Layout(ElementGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int n = graph.Nodes.Count;
        var index = graph.Nodes.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var x = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = 0.5 + 0.4 * Math.Cos(2 * Math.PI * i / Math.Max(1, n));
            y[i] = 0.5 + 0.4 * Math.Sin(2 * Math.PI * i / Math.Max(1, n));
        }
        if (n < 2) return [.. x.Zip(y)];
        double k = Math.Sqrt(1.0 / n), temperature = 0.1;
        var edges = graph.Edges.Select(e => (index[e.A], index[e.B])).ToArray();
        for (int step = 0; step < Iterations; step++)
        {
            var dx = new double[n];
            var dy = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    if (i == j) continue;
                    double ddx = x[i] - x[j], ddy = y[i] - y[j], d = Math.Max(1e-9, Math.Sqrt(ddx * ddx + ddy * ddy));
                    dx[i] += ddx / d * k * k / d;   // repulsion k²/d
                    dy[i] += ddy / d * k * k / d;
                }
            foreach (var (a, b) in edges)
            {
                double ddx = x[a] - x[b], ddy = y[a] - y[b], d = Math.Max(1e-9, Math.Sqrt(ddx * ddx + ddy * ddy));
                double f = d * d / k;               // attraction d²/k
                dx[a] -= ddx / d * f; dy[a] -= ddy / d * f;
                dx[b] += ddx / d * f; dy[b] += ddy / d * f;
            }
            for (int i = 0; i < n; i++)
            {
                double d = Math.Max(1e-9, Math.Sqrt(dx[i] * dx[i] + dy[i] * dy[i])), move = Math.Min(d, temperature);
                x[i] += dx[i] / d * move;
                y[i] += dy[i] / d * move;
            }
            temperature *= 0.98;
        }
        double minX = x.Min(), maxX = x.Max(), minY = y.Min(), maxY = y.Max();
        double scale = Math.Max(Math.Max(maxX - minX, maxY - minY), 1e-9);
        return [.. Enumerable.Range(0, n).Select(i => (0.05 + 0.9 * (x[i] - minX) / scale, 0.05 + 0.9 * (y[i] - minY) / scale))];
    }

    public static void Save(ElementGraph graph, string path, string title, int width = 600, int height = 600)
    {
        var positions = Layout(graph);
        var index = graph.Nodes.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var plot = new ScottPlot.Plot();
        foreach (var e in graph.Edges)
        {
            var (a, b) = (positions[index[e.A]], positions[index[e.B]]);
            var line = plot.Add.Line(a.X, a.Y, b.X, b.Y);
            line.LineWidth = 2;
            line.Color = ScottPlot.Colors.Gray;
            var label = plot.Add.Text(e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (a.X + b.X) / 2, (a.Y + b.Y) / 2);
            label.LabelFontColor = ScottPlot.Colors.DarkGray;
            label.LabelFontSize = 11;
        }
        for (int i = 0; i < positions.Length; i++)
        {
            var marker = plot.Add.Marker(positions[i].X, positions[i].Y);
            marker.MarkerSize = 22;
            marker.Color = ScottPlot.Colors.SteelBlue;
            var label = plot.Add.Text(graph.Nodes[i].ToString(System.Globalization.CultureInfo.InvariantCulture), positions[i].X,
                positions[i].Y);
            label.LabelFontColor = ScottPlot.Colors.White;
            label.LabelFontSize = 12;
            label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
        }
        plot.Title(title);
        plot.HideAxesAndGrid();
        plot.Axes.SetLimits(-0.05, 1.05, -0.05, 1.05);
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
