using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Two-dimensional toy sets as <see cref="LabeledDataset"/>s with inputs [N, 2]. Deterministic given
/// the seed (System.Random). Examples cycle through the classes (example i has class i mod K), so
/// every prefix is balanced. <c>noise</c> is the standard deviation of the Gaussian noise, in the
/// coordinates before the final scaling; each set has its own default:
/// <list type="bullet">
/// <item>moons: sklearn's two interleaving half circles (outer: (cos t, sin t), inner: (1 − cos t, 0.5 − sin t),
/// t uniform in [0, π]); noise 0.1; labels 0 outer, 1 inner.</item>
/// <item>spirals: two arms r·(cos(t + kπ), sin(t + kπ)) with t = 3π·√u, r = t/(3π) ∈ [0, 1] (√u spreads the
/// points evenly over the area), 1.5 turns each; noise 0.03; label k.</item>
/// <item>8gaussians: modes at radius 2, angles kπ/4, std 0.02, all scaled by 1/1.414; label k.</item>
/// <item>25gaussians: modes on the grid {−4,−2,0,2,4}², std 0.05, scaled by 1/2.828; label 5·i + j for
/// mode (x_i, y_j), x the slower index.</item>
/// <item>swissroll: sklearn's roll t = 1.5π(1 + 2u), (x, z) = (t cos t, t sin t), the 2-D (x, z) of the
/// 3-D roll (its height is dropped), noise 0.5, scaled by 1/7.5 so it lies within about ±2; one class, label 0.</item>
/// </list>
/// </summary>
public static class ToyDatasets
{
    private sealed record Toy(string Name, int ClassCount, double DefaultNoise, double Scale,
        Func<Random, int, (double X, double Y)> Sample);

    private static readonly Toy[] Known =
    [
        new("moons", 2, 0.1, 1.0, Moon),
        new("spirals", 2, 0.03, 1.0, Spiral),
        new("8gaussians", 8, 0.02, 1 / 1.414, (_, k) => (2 * Math.Cos(k * Math.PI / 4), 2 * Math.Sin(k * Math.PI / 4))),
        new("25gaussians", 25, 0.05, 1 / 2.828, (_, k) => (-4 + 2 * (k / 5), -4 + 2 * (k % 5))),
        new("swissroll", 1, 0.5, 1 / 7.5, SwissRoll),
    ];

    public static IReadOnlyList<string> Names { get; } = Known.Select(k => k.Name).ToArray();

    public static int ClassCount(string name) => Find(name).ClassCount;

    /// <summary>The largest toy set generated (12 bytes a point: 1.2 GB at this size).</summary>
    public const int MaxCount = 100_000_000;

    /// <summary>
    /// <paramref name="count"/> points of the named set. <paramref name="noise"/> overrides the set's
    /// noise standard deviation (before scaling). The points are the centre (or curve point) for the
    /// example's class plus Gaussian noise, times the set's scale.
    /// </summary>
    public static LabeledDataset Create(string name, int count, long seed, double? noise = null)
    {
        var toy = Find(name);
        if (count < 1) throw new BasinException($"{toy.Name}: point count must be at least 1, got {count}");
        if (count > MaxCount) throw new BasinException($"{toy.Name}: at most {MaxCount:N0} points are generated, got {count:N0}");
        var std = noise ?? toy.DefaultNoise;
        if (!(std >= 0) || double.IsInfinity(std)) throw new BasinException($"{toy.Name}: noise must be a finite number ≥ 0, got {std}");

        var random = SeededRandom.Create(seed);
        var points = new float[2 * count];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            var k = i % toy.ClassCount;
            var (x, y) = toy.Sample(random, k);
            points[2 * i] = (float)((x + std * random.NextGaussian()) * toy.Scale);
            points[2 * i + 1] = (float)((y + std * random.NextGaussian()) * toy.Scale);
            labels[i] = k;
        }
        return new LabeledDataset(toy.Name, tensor(points, new long[] { count, 2 }), tensor(labels, new long[] { count }), toy.ClassCount);
    }

    private static Toy Find(string name) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new BasinException($"unknown toy data set '{name}'; known: {string.Join(", ", Names)}");

    private static (double, double) Moon(Random random, int k)
    {
        var t = Math.PI * random.NextDouble();
        return k == 0 ? (Math.Cos(t), Math.Sin(t)) : (1 - Math.Cos(t), 0.5 - Math.Sin(t));
    }

    private static (double, double) Spiral(Random random, int k)
    {
        var t = 3 * Math.PI * Math.Sqrt(random.NextDouble());
        var r = t / (3 * Math.PI);
        return (r * Math.Cos(t + k * Math.PI), r * Math.Sin(t + k * Math.PI));
    }

    private static (double, double) SwissRoll(Random random, int _)
    {
        var t = 1.5 * Math.PI * (1 + 2 * random.NextDouble());
        return (t * Math.Cos(t), t * Math.Sin(t));
    }
}
