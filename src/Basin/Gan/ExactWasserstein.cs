using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The exact Wasserstein-1 distance between two empirical distributions of equally many points (each point
/// weight 1/n) with Euclidean ground cost. For equal weights an optimal coupling is a permutation (Birkhoff),
/// so W1 = min_σ (1/n) Σᵢ ‖aᵢ − b_σ(i)‖, found by <see cref="OptimalAssignment"/>. Computed in doubles.
/// </summary>
public static class ExactWasserstein
{
    /// <param name="a">Points [n, ...] (flattened per point).</param>
    /// <param name="b">Points [n, ...] of the same shape.</param>
    public static double Distance(Tensor a, Tensor b)
    {
        if (a.dim() < 2 || !a.shape.SequenceEqual(b.shape))
            throw new BasinException($"W1 needs two point sets of the same shape [n,...], got [{string.Join(",", a.shape)}] and " +
                $"[{string.Join(",", b.shape)}]");
        return Distance(ToRows(a), ToRows(b));
    }

    public static double Distance(double[][] a, double[][] b)
    {
        if (a.Length != b.Length) throw new BasinException($"W1 by assignment needs equally many points, got {a.Length} and {b.Length}");
        if (a.Length == 0) throw new BasinException("W1 needs at least one point per set");
        int n = a.Length, d = a[0].Length;
        if (a.Concat(b).Any(p => p.Length != d)) throw new BasinException("W1: all points must have the same dimension");
        var cost = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) { double diff = a[i][k] - b[j][k]; s += diff * diff; }
                cost[i, j] = Math.Sqrt(s);
            }
        return OptimalAssignment.Solve(cost).Cost / n;
    }

    /// <summary>
    /// W1 between <paramref name="count"/> samples of <paramref name="generator"/> and <paramref name="count"/> points drawn
    /// without replacement from <paramref name="real"/> (the WGAN-LP paper's evaluation uses 512 and 512).
    /// </summary>
    public static double GeneratorDistance(Generator generator, Tensor real, int count = 512, long seed = 0)
    {
        if (count < 1 || count > real.shape[0]) throw new BasinException($"W1: need 1 ≤ count ≤ {real.shape[0]} " +
            $"real points, got {count}");
        using var scope = torch.NewDisposeScope();
        using var random = new torch.Generator(unchecked((ulong)seed));
        var realPoints = real.index(torch.randperm(real.shape[0], generator: random).slice(0, 0, count, 1));
        Tensor fake;
        using (torch.no_grad()) fake = generator.forward(generator.SampleLatent(count, random));
        return Distance(fake, realPoints);
    }

    static double[][] ToRows(Tensor t)
    {
        using var flat = t.detach().flatten(1).to(ScalarType.Float64).contiguous();
        var values = flat.data<double>().ToArray();
        int n = (int)flat.shape[0], d = (int)flat.shape[1];
        var rows = new double[n][];
        for (int i = 0; i < n; i++) rows[i] = values.AsSpan(i * d, d).ToArray();
        return rows;
    }
}
