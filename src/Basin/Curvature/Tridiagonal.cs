using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>Eigen-decomposition of the small symmetric tridiagonal matrix a Lanczos run produces.</summary>
static class Tridiagonal
{
    /// <summary>Eigenvalues ascending, and eigenvectors as columns ([k][i] = component k of vector i).</summary>
    public static (double[] values, double[,] vectors) Eigen(IReadOnlyList<double> alpha, IReadOnlyList<double> beta)
    {
        int m = alpha.Count;
        var t = new double[m * m];
        for (int i = 0; i < m; i++)
        {
            t[i * m + i] = alpha[i];
            if (i + 1 < m) t[i * m + i + 1] = t[(i + 1) * m + i] = beta[i];
        }
        using var scope = torch.NewDisposeScope();
        var (values, vectors) = torch.linalg.eigh(torch.tensor(t, ScalarType.Float64).reshape(m, m));
        var vs = vectors.data<double>().ToArray();
        var result = new double[m, m];
        for (int k = 0; k < m; k++)
            for (int i = 0; i < m; i++) result[k, i] = vs[k * m + i];
        return (values.data<double>().ToArray(), result);
    }
}
