namespace Basin.Data;

/// <summary>
/// System.Random seeded from a 64-bit seed. Random(int) uses a fixed algorithm that does not
/// change between .NET versions, so the same seed gives the same data everywhere.
/// </summary>
internal static class SeededRandom
{
    public static Random Create(long seed) => new(unchecked((int)(seed ^ (seed >>> 32))) & int.MaxValue);

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double NextGaussian(this Random random)
    {
        var u1 = 1.0 - random.NextDouble(); // in (0, 1], so the log is finite
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary><paramref name="k"/> distinct indices out of 0..n−1 (partial Fisher–Yates), sorted ascending.</summary>
    public static long[] ChooseIndices(this Random random, long n, long k)
    {
        var pool = new long[n];
        for (long i = 0; i < n; i++) pool[i] = i;
        for (long i = 0; i < k; i++)
        {
            var j = i + random.NextInt64(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        var chosen = pool[..(int)k];
        Array.Sort(chosen);
        return chosen;
    }
}
