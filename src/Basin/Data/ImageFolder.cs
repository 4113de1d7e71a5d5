using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// A folder of images with one subfolder per class (PNG, JPEG, BMP, GIF or WebP), read into a
/// <see cref="LabeledDataset"/>: classes are the subfolder names in ordinal order; examples are taken
/// round-robin over the classes (the first of every class, then the second, ...), so the first N are balanced.
/// Pixels are scaled to [0, 1]; the images are one channel when every pixel of every image is grey, else three (RGB).
/// Every image must have the size of the first one.
/// </summary>
public static class ImageFolder
{
    /// <summary>The file extensions read, lower case.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>The class names (subfolders holding at least one image), in ordinal order.</summary>
    public static IReadOnlyList<string> ClassNames(string folder)
    {
        if (!Directory.Exists(folder)) throw new BasinException($"image folder not found: {folder}");
        var classes = Directory.GetDirectories(folder).Where(d => ImagesIn(d).Any())
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
            throw new BasinException($"{folder} has no class subfolders with images ({string.Join(", ", Extensions)}): "
                + "put the images of each class in a subfolder named for the class");
        return classes;
    }

    /// <summary>Reads the folder; <paramref name="classNames"/> fixes the class order (e.g. the training set's) when given.</summary>
    public static LabeledDataset Load(string folder, IReadOnlyList<string>? classNames = null)
    {
        var own = ClassNames(folder);
        var classes = classNames ?? own;
        foreach (var c in own)
            if (!classes.Contains(c)) throw new BasinException($"{folder}: class '{c}' is not a class of the training data " +
                $"({string.Join(", ", classes)})");
        var files = classes.Select(c => Directory.Exists(Path.Combine(folder, c))
            ? ImagesIn(Path.Combine(folder, c)).Order(StringComparer.Ordinal).ToList() : []).ToList();
        var order = new List<(string File, int Label)>();
        for (int i = 0, left = files.Sum(f => f.Count); left > 0; i++)
            for (int c = 0; c < files.Count; c++)
                if (i < files[c].Count) { order.Add((files[c][i], c)); left--; }

        int width = 0, height = 0;
        bool grey = true;
        var pixels = new List<byte[]>(order.Count);   // RGB, row-major
        foreach (var (file, _) in order)
        {
            using var bitmap = Decode(file);
            if (pixels.Count == 0) (width, height) = (bitmap.Width, bitmap.Height);
            else if (bitmap.Width != width || bitmap.Height != height)
                throw new BasinException($"{file} is {bitmap.Width}×{bitmap.Height} but {order[0].File} is {width}×{height}: every " +
                    "image must have one size");
            var rgb = new byte[3 * width * height];
            for (int y = 0, k = 0; y < height; y++)
                for (int x = 0; x < width; x++, k += 3)
                {
                    var p = bitmap.GetPixel(x, y);
                    (rgb[k], rgb[k + 1], rgb[k + 2]) = (p.Red, p.Green, p.Blue);
                    grey &= p.Red == p.Green && p.Green == p.Blue;
                }
            pixels.Add(rgb);
        }
        int channels = grey ? 1 : 3, plane = width * height;
        var values = new float[(long)order.Count * channels * plane];
        for (int n = 0; n < order.Count; n++)
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < plane; i++)
                    values[((long)n * channels + c) * plane + i] = pixels[n][3 * i + c] / 255f;
        var inputs = tensor(values, [order.Count, channels, height, width]);
        var labels = tensor(order.Select(o => (long)o.Label).ToArray(), ScalarType.Int64);
        return new LabeledDataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), inputs, labels, classes.Count);
    }

    static IEnumerable<string> ImagesIn(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()));

    static SKBitmap Decode(string file)
    {
        SKBitmap? bitmap;
        try { bitmap = SKBitmap.Decode(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new BasinException($"cannot read {file}: " +
            $"{e.Message}"); }
        return bitmap ?? throw new BasinException($"{file} is not an image Basin can decode (PNG, JPEG, BMP, GIF or WebP)");
    }
}
