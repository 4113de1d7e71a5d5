using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>Eigenvalues (ascending) and unit eigenvectors (Vectors[i] belongs to Values[i]) of a symmetric matrix, in float64.</summary>
public sealed record SymmetricEigen(double[] Values, double[][] Vectors)
{
    public static SymmetricEigen Of(double[,] matrix)
    {
        int n = matrix.GetLength(0);
        if (n != matrix.GetLength(1)) throw new BasinException($"eigenvalues need a square matrix, got {n}×{matrix.GetLength(1)}");
        if (n == 0) return new SymmetricEigen([], []);
        using var scope = torch.NewDisposeScope();
        var (values, vectors) = torch.linalg.eigh(torch.tensor(matrix, dtype: float64));
        var v = values.data<double>().ToArray();
        var q = vectors.t().contiguous().data<double>().ToArray();
        var rows = new double[n][];
        for (int i = 0; i < n; i++) rows[i] = q.AsSpan(i * n, n).ToArray();
        return new SymmetricEigen(v, rows);
    }

    public double Largest => Values[^1];
    public double Smallest => Values[0];
    /// <summary>The largest |eigenvalue|, the scale for "numerically zero".</summary>
    public double Scale => Values.Length == 0 ? 0 : Math.Max(Math.Abs(Values[0]), Math.Abs(Values[^1]));

    /// <summary>(negative, zero, positive) counts, an eigenvalue counting as zero when |value| ≤ <paramref name="relativeTolerance"/>·Scale.</summary>
    public Inertia InertiaAt(double relativeTolerance) => InertiaAbove(relativeTolerance * Scale);

    /// <summary>(negative, zero, positive) counts, an eigenvalue counting as zero when |value| ≤ <paramref name="tol"/>.</summary>
    public Inertia InertiaAbove(double tol)
    {
        return new Inertia(Values.Count(v => v < -tol), Values.Count(v => Math.Abs(v) <= tol), Values.Count(v => v > tol));
    }
}

/// <summary>The counts of negative, zero and positive eigenvalues of a symmetric matrix (Sylvester's inertia).</summary>
public sealed record Inertia(int Negative, int Zero, int Positive)
{
    public override string ToString() => $"({Negative}, {Zero}, {Positive})";
}
