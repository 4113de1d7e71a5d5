using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Power iteration with deflation, as PyHessian computes top eigenvalues (kept for parity and comparison):
/// each eigenvalue in turn, iterating v ← Hv/‖Hv‖ orthogonal to the eigenvectors already found, until the
/// Rayleigh quotient changes by less than <c>tolerance</c> relative. It converges to the eigenvalues of largest
/// magnitude, which after training are the largest ones.
/// </summary>
public static class PowerIteration
{
    public static EigenvalueResult TopEigenvalues(ICurvatureProduct op, int k = 1, double tolerance = 1e-3, int maxIterations = 100,
        long seed = 0, CancellationToken cancellationToken = default)
    {
        if (k < 1) throw new BasinException($"number of eigenvalues must be at least 1, got {k}");
        if (k > op.Dimension) throw new BasinException($"asked for {k} eigenvalues of a {op.Dimension}-dimensional operator");
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(unchecked((ulong)seed));
        var values = new List<double>();
        var vectors = new List<IReadOnlyList<Tensor>>();
        long products = 0;
        bool allConverged = true;
        for (int i = 0; i < k; i++)
        {
            var v = ParamVectors.Rademacher(op.Shapes, op.DType, generator);
            ParamVectors.Orthogonalize(v, vectors);
            v = ParamVectors.Normalize(v);
            double? eigenvalue = null;
            bool converged = false;
            for (int it = 0; it < maxIterations; it++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var hv = op.Apply(v);
                products++;
                double rayleigh = ParamVectors.Dot(hv, v);
                ParamVectors.Orthogonalize(hv, vectors);
                v = ParamVectors.Normalize(hv);
                if (eigenvalue is double previous && Math.Abs(previous - rayleigh) / (Math.Abs(previous) + 1e-6) < tolerance)
                {
                    eigenvalue = rayleigh;
                    converged = true;
                    break;
                }
                eigenvalue = rayleigh;
            }
            allConverged &= converged;
            values.Add(eigenvalue ?? 0);
            vectors.Add(v);
        }
        return new EigenvalueResult(values, products, allConverged);
    }
}
