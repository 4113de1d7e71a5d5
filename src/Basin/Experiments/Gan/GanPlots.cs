using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;
using Generator = Basin.Gan.Generator;

namespace Basin.Experiments.Gan;

/// <summary>PNG figures of latent paths: ScottPlot scatter plots for 2-D toy data, image strips for 28×28 images.</summary>
public static class GanPlots
{
    /// <summary>The real points (grey) and, per path, its samples G(z_0) … G(z_T) joined in order.</summary>
    public static string PathPlot(string file, string title, Generator generator, Tensor real, IReadOnlyList<Tensor> paths)
    {
        var plot = new ScottPlot.Plot();
        using (var pts = real.slice(0, 0, Math.Min(real.shape[0], 2000), 1).to(ScalarType.Float64).contiguous())
        {
            var v = pts.data<double>().ToArray();
            var xs = Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i]).ToArray();
            var ys = Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i + 1]).ToArray();
            var data = plot.Add.Scatter(xs, ys);
            data.LineWidth = 0;
            data.MarkerSize = 2;
            data.Color = ScottPlot.Colors.Gray.WithAlpha(0.5);
        }
        using (torch.no_grad())
            foreach (var path in paths)
            {
                using var samples = generator.forward(path).to(ScalarType.Float64).contiguous();
                var v = samples.data<double>().ToArray();
                var line = plot.Add.Scatter(Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i]).ToArray(),
                    Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i + 1]).ToArray());
                line.MarkerSize = 4;
                line.LineWidth = 1.5f;
            }
        plot.Title(title);
        plot.Axes.SquareUnits();
        Write(file, plot.GetImageBytes(640, 640, ScottPlot.ImageFormat.Png));
        return file;
    }

    /// <summary>
    /// The samples of a trained generator: for 2-D toy data the real points (grey) and <paramref name="count"/> generated
    /// points G(z); for 28×28 images a square grid of generated images. The latent codes come from <paramref name="seed"/>.
    /// </summary>
    public static string Samples(string file, string title, Generator generator, Tensor real, bool images, long seed, int count = 512)
    {
        using var random = new torch.Generator(unchecked((ulong)seed));
        if (images)
        {
            var rows = Enumerable.Range(0, 8).Select(_ => generator.SampleLatent(8, random)).ToList();
            try { return ImageStrip(file, generator, rows); }
            finally { foreach (var z in rows) z.Dispose(); }
        }
        var plot = new ScottPlot.Plot();
        AddPoints(plot, real.slice(0, 0, Math.Min(real.shape[0], 2000), 1), ScottPlot.Colors.Gray.WithAlpha(0.5), 2);
        using (torch.no_grad())
        using (var z = generator.SampleLatent(count, random))
        using (var fake = generator.forward(z))
            AddPoints(plot, fake, ScottPlot.Colors.OrangeRed.WithAlpha(0.7), 3);
        plot.Title(title);
        plot.Axes.SquareUnits();
        Write(file, plot.GetImageBytes(640, 640, ScottPlot.ImageFormat.Png));
        return file;
    }

    static void AddPoints(ScottPlot.Plot plot, Tensor points, ScottPlot.Color colour, float size)
    {
        using var pts = points.to(ScalarType.Float64).contiguous();
        var v = pts.data<double>().ToArray();
        var dots = plot.Add.Scatter(Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i]).ToArray(),
            Enumerable.Range(0, v.Length / 2).Select(i => v[2 * i + 1]).ToArray());
        dots.LineWidth = 0;
        dots.MarkerSize = size;
        dots.Color = colour;
    }

    /// <summary>One row per path, one 28×28 tile (drawn at 2×) per point G(z_t), grey levels from [0, 1].</summary>
    public static string ImageStrip(string file, Generator generator, IReadOnlyList<Tensor> paths)
    {
        const int scale = 2, gap = 2;
        int columns = (int)paths[0].shape[0];
        int tile = 28 * scale;
        int width = columns * (tile + gap) + gap, height = paths.Count * (tile + gap) + gap;
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(SKColors.White);
        using (torch.no_grad())
            for (int row = 0; row < paths.Count; row++)
            {
                using var zero = 0.ToScalar();
                using var one = 1.ToScalar();
                using var maxPixel = 255.ToScalar();
                using var images = generator.forward(paths[row]).clamp(zero, one).mul(maxPixel).to(ScalarType.Float32).contiguous();
                var v = images.data<float>().ToArray();
                for (int c = 0; c < columns; c++)
                    for (int y = 0; y < 28 * scale; y++)
                        for (int x = 0; x < 28 * scale; x++)
                        {
                            byte g = (byte)Math.Round(v[c * 784 + (y / scale) * 28 + x / scale]);
                            bitmap.SetPixel(gap + c * (tile + gap) + x, gap + row * (tile + gap) + y, new SKColor(g, g, g));
                        }
            }
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        Write(file, png.ToArray());
        return file;
    }

    static void Write(string file, byte[] bytes) => Basin.IO.AtomicFile.Write(file, s => s.Write(bytes));
}
