using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Curvature;
using Basin.Flatness;

namespace Basin.Experiments.Geometry;

/// <summary>Draws a spectral density as a PNG (ScottPlot, headless): log10 density over the eigenvalue axis, as PyHessian plots
/// it.</summary>
public static class DensityPlot
{
    /// <summary>Density values below this are drawn at it, so the log axis shows the bulk and the outliers alike.</summary>
    const double Floor = 1e-12;

    public static void Save(SpectralDensityResult density, string path, string title, int width = 800, int height = 500)
    {
        var plot = new ScottPlot.Plot();
        var xs = density.Grid.ToArray();
        var ys = density.Density.Select(d => Math.Log10(Math.Max(d, Floor))).ToArray();
        var line = plot.Add.ScatterLine(xs, ys);
        line.LineWidth = 1.5f;
        plot.Title(title);
        plot.XLabel("eigenvalue");
        plot.YLabel("density");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:0}",
        };
        var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
