using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Data.Corruptions;

/// <summary>
/// The MNIST-C corruptions (Mu &amp; Gilmer, "MNIST-C: A Robustness Benchmark for Computer Vision", 2019) with their
/// parameters at severities 1..5, applied to images in [0, 1] ([N, C, H, W]) and clipped to [0, 1]. The random draws of
/// every image come from a generator seeded by (base seed, corruption, severity, sample index), so every model sees
/// bit-identical corrupted images, whatever the batch, order or thread count. Severity 0 is the identity. Blurs use a
/// reflecting border (edge repeated) and Gaussian kernels of radius ⌈4σ⌉; bit parity with the MNIST-C code is not sought.
/// </summary>
public static class ImageCorruptions
{
    public const int MaxSeverity = 5;

    /// <summary>Every corruption, in the order of the table in docs/pruning.md.</summary>
    public static readonly IReadOnlyList<Corruption> All =
    [
        new("gaussian_noise", "x + N(0, c²)", [0.08, 0.12, 0.18, 0.26, 0.38])
            { Apply = Pointwise((x, c, r) => x + (float)(c * r.NextGaussian())) },
        new("shot_noise", "Poisson(x·c)/c", [60, 25, 12, 5, 3])
            { Apply = Pointwise((x, c, r) => (float)(Poisson(r, x * c) / c)) },
        new("impulse_noise", "exactly round(c·n) of the n pixels set, ⌊half⌋ to 0, the rest to 1",
            [0.03, 0.06, 0.09, 0.17, 0.27]) { Apply = Impulse },
        new("speckle_noise", "x + x·N(0, c²)", [0.15, 0.2, 0.35, 0.45, 0.6])
            { Apply = Pointwise((x, c, r) => x + (float)(x * c * r.NextGaussian())) },
        new("gaussian_blur", "Gaussian blur of standard deviation c (radius ⌈4c⌉)", [1, 2, 3, 4, 6])
            { Apply = (p, o, ch, h, w, c, r) => Planes(o, ch, h, w, at => ImageOps.Separable(p, at, h, w,
                ImageOps.GaussianKernel(c))) },
        new("defocus_blur", "normalized disk of radius c on the grid ±max(8, c), anti-aliased by a Gaussian (σ 0.1 at c = 3, else 0.5)",
            [3, 4, 6, 8, 10]) { Apply = Defocus },
        new("contrast", "(x − mean(x))·c + mean(x), per image", [0.4, 0.3, 0.2, 0.1, 0.05]) { Apply = Contrast },
        new("brightness", "x + c (HSV value + c, for grayscale)", [0.1, 0.2, 0.3, 0.4, 0.5])
            { Apply = Pointwise((x, c, r) => x + (float)c) },
        new("pixelate", "BOX-downsample to ⌊c·size⌋, then BOX-upsample back", [0.6, 0.5, 0.4, 0.3, 0.25]) { Apply = Pixelate },
        new("quantize", "round(x·(2^c − 1))/(2^c − 1)", [5, 4, 3, 2, 1]) { Apply = Quantize },
        new("rotate", "rotation by ±c rad about the centre (random sign), bilinear, zero fill", [0.2, 0.4, 0.6, 0.8, 1.0])
            { Apply = Rotate },
        new("shear", "shear by ±c rad about the centre (random sign), bilinear, zero fill", [0.2, 0.4, 0.6, 0.8, 1.0])
            { Apply = (p, o, ch, h, w, c, r) => { double a = Sign(r) * c; Warps(p, o, ch, h, w, 1, -Math.Sin(a), 0, Math.Cos(a)); } },
        new("scale", "the object shrunk by c about the centre, bilinear, zero fill", [0.9, 0.8, 0.7, 0.6, 0.5])
            { Apply = (p, o, ch, h, w, c, r) => Warps(p, o, ch, h, w, 1 / c, 0, 0, 1 / c) },
        new("translate", "shift by (±c, ±c) pixels (random signs), zero fill", [1, 2, 3, 4, 5]) { Apply = Translate },
        new("stripe", "invert the first and last ⌊width/4⌋ columns (parameter-free)", []) { Apply = Stripe },
        new("inverse", "1 − x (parameter-free)", [])
            { Apply = Pointwise((x, c, r) => 1 - x) },
    ];

    public static IReadOnlyList<string> Names => All.Select(c => c.Name).ToArray();

    /// <summary>The corruption named <paramref name="name"/> (case-insensitive); a BasinException naming the known ones
    /// otherwise.</summary>
    public static Corruption Get(string name) =>
        All.FirstOrDefault(c => string.Equals(c.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new BasinException($"unknown corruption '{name.Trim()}' (known: {string.Join(", ", Names)})");

    /// <summary>"all" or a comma-separated list of names, in the order given, each once.</summary>
    public static IReadOnlyList<Corruption> Parse(string list)
    {
        if (string.IsNullOrWhiteSpace(list)) throw new BasinException("--corruptions needs 'all' or a comma-separated list of names");
        if (list.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return All;
        return list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Get).Distinct().ToArray();
    }

    /// <summary>Severities "1-5", "2", or "1,3,5": each in 1..5, ascending, each once.</summary>
    public static IReadOnlyList<int> ParseSeverities(string text)
    {
        var result = new SortedSet<int>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new BasinException($"--severities: '{part}' is not a severity or a range like 1-5");
            int from = int.Parse(ends[0], CultureInfo.InvariantCulture), to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            foreach (var s in new[] { from, to }) CheckSeverity(s);
            if (to < from) throw new BasinException($"--severities: the range '{part}' is empty");
            for (int s = from; s <= to; s++) result.Add(s);
        }
        return result.ToArray();
    }

    static void CheckSeverity(int severity)
    {
        if (severity is < 1 or > MaxSeverity) throw new BasinException($"severity must be in 1–{MaxSeverity}, got {severity}");
    }

    /// <summary>
    /// A copy of <paramref name="data"/> with every image corrupted at <paramref name="severity"/> (0: an exact copy).
    /// Image i of the set is sample <paramref name="firstIndex"/> + i for the seeding, so a slice of a set gets the same
    /// images as the whole set.
    /// </summary>
    public static LabeledDataset Apply(LabeledDataset data, Corruption corruption, int severity, long seed = 0, long firstIndex = 0)
    {
        if (severity != 0) CheckSeverity(severity);
        var shape = data.Inputs.shape;
        if (shape.Length != 4) throw new BasinException($"corruptions act on images [N, C, H, W]; {data.Name} has inputs " +
            $"[{string.Join(",", shape)}]");
        int channels = checked((int)shape[1]), h = checked((int)shape[2]), w = checked((int)shape[3]);
        int size = channels * h * w;
        using var cpu = data.Inputs.detach().to(CPU).contiguous();
        var pixels = cpu.data<float>().ToArray();
        if (severity > 0)
        {
            if (pixels.Any(v => !(v >= 0 && v <= 1)))
                throw new BasinException($"corruptions need pixel values in [0, 1]; {data.Name} has values outside");
            Parallel.For(0, (int)data.Count, n =>
            {
                var random = SeededRandom.Create(SampleSeed(seed, corruption.Name, severity, firstIndex + n));
                corruption.Apply(pixels, n * size, channels, h, w, corruption.Parameter(severity), random);
                for (int i = n * size; i < (n + 1) * size; i++) pixels[i] = Math.Clamp(pixels[i], 0f, 1f);
            });
        }
        var inputs = tensor(pixels, shape, ScalarType.Float32);
        return new LabeledDataset(data.Name, inputs, data.Labels.clone(), data.ClassCount);
    }

    /// <summary>The seed of one image: SplitMix64 over the base seed, the name's FNV-1a hash, the severity and the index.</summary>
    public static long SampleSeed(long seed, string name, int severity, long index)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char ch in name) hash = (hash ^ ch) * 1099511628211UL;
        ulong x = Mix((ulong)seed ^ hash);
        x = Mix(x ^ (ulong)severity);
        return unchecked((long)Mix(x ^ (ulong)index));
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A corruption acting on each pixel alone, in memory order (the random draws follow that order).</summary>
    static CorruptImage Pointwise(Func<float, double, Random, float> f) => (p, o, ch, h, w, c, r) =>
    {
        for (int i = o; i < o + ch * h * w; i++) p[i] = f(p[i], c, r);
    };

    static void Defocus(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        var kernel = Disk((int)c);
        Planes(o, ch, h, w, at => ImageOps.Convolve(p, at, h, w, kernel));
    }

    static void Rotate(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        double a = Sign(r) * c;
        Warps(p, o, ch, h, w, Math.Cos(a), Math.Sin(a), -Math.Sin(a), Math.Cos(a));
    }

    static int Sign(Random r) => r.Next(2) == 0 ? -1 : 1;

    static void Planes(int offset, int channels, int h, int w, Action<int> each)
    {
        for (int c = 0; c < channels; c++) each(offset + c * h * w);
    }

    static void Warps(float[] p, int o, int ch, int h, int w, double a11, double a12, double a21, double a22) =>
        Planes(o, ch, h, w, at => ImageOps.Warp(p, at, h, w, a11, a12, a21, a22));

    /// <summary>Knuth's multiplication method (λ ≤ 60 here, so exp(−λ) stays far from underflow).</summary>
    internal static int Poisson(Random r, double lambda)
    {
        double limit = Math.Exp(-lambda), product = r.NextDouble();
        int k = 0;
        while (product > limit)
        {
            k++;
            product *= r.NextDouble();
        }
        return k;
    }

    static void Impulse(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        int n = ch * h * w;
        int k = (int)Math.Round(c * n, MidpointRounding.AwayFromZero);
        var pool = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + r.Next(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
            p[o + pool[i]] = i < k / 2 ? 0f : 1f;
        }
    }

    static void Contrast(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        int n = ch * h * w;
        double mean = 0;
        for (int i = o; i < o + n; i++) mean += p[i];
        mean /= n;
        for (int i = o; i < o + n; i++) p[i] = (float)((p[i] - mean) * c + mean);
    }

    static double[,] Disk(int radius)
    {
        double alias = radius <= 3 ? 0.1 : 0.5;
        int l = Math.Max(8, radius), side = 2 * l + 1;
        var disk = new float[side * side];
        double sum = 0;
        for (int y = -l; y <= l; y++)
            for (int x = -l; x <= l; x++)
                if (x * x + y * y <= radius * radius) { disk[(y + l) * side + x + l] = 1; sum++; }
        for (int i = 0; i < disk.Length; i++) disk[i] = (float)(disk[i] / sum);
        int aliasRadius = radius <= 8 ? 1 : 2;
        var g = new double[2 * aliasRadius + 1];
        double gs = 0;
        for (int i = -aliasRadius; i <= aliasRadius; i++) gs += g[i + aliasRadius] = Math.Exp(-0.5 * i * i / (alias * alias));
        for (int i = 0; i < g.Length; i++) g[i] /= gs;
        ImageOps.Separable(disk, 0, side, side, g);
        var kernel = new double[side, side];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) kernel[y, x] = disk[y * side + x];
        return kernel;
    }

    static void Pixelate(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        int sh = Math.Max(1, (int)Math.Floor(h * c)), sw = Math.Max(1, (int)Math.Floor(w * c));
        var downRows = ImageOps.BoxWeights(h, sh);
        var downCols = ImageOps.BoxWeights(w, sw);
        var upRows = ImageOps.BoxWeights(sh, h);
        var upCols = ImageOps.BoxWeights(sw, w);
        Planes(o, ch, h, w, at =>
        {
            var plane = new double[h * w];
            for (int i = 0; i < plane.Length; i++) plane[i] = p[at + i];
            var small = ImageOps.Resample(plane, h, w, downRows, downCols);
            var back = ImageOps.Resample(small, sh, sw, upRows, upCols);
            for (int i = 0; i < back.Length; i++) p[at + i] = (float)back[i];
        });
    }

    static void Quantize(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        float levels = (float)(Math.Pow(2, c) - 1);
        for (int i = o; i < o + ch * h * w; i++) p[i] = MathF.Round(p[i] * levels) / levels;
    }

    static void Translate(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        int dx = Sign(r) * (int)c, dy = Sign(r) * (int)c;
        Planes(o, ch, h, w, at =>
        {
            var shifted = new float[h * w];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int sy = y - dy, sx = x - dx;
                    if (sy >= 0 && sy < h && sx >= 0 && sx < w) shifted[y * w + x] = p[at + sy * w + sx];
                }
            Array.Copy(shifted, 0, p, at, shifted.Length);
        });
    }

    static void Stripe(float[] p, int o, int ch, int h, int w, double c, Random r)
    {
        int band = w / 4;
        Planes(o, ch, h, w, at =>
        {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (x < band || x >= w - band) p[at + y * w + x] = 1 - p[at + y * w + x];
        });
    }
}
