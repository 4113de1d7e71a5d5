using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The Lanczos process with full reorthogonalization over a curvature operator: it builds an orthonormal
/// Krylov basis and the tridiagonal T = QᵀHQ whose eigenvalues (Ritz values) approximate H's extreme
/// eigenvalues after far fewer products than power iteration needs.
/// </summary>
public static class Lanczos
{
    /// <summary>
    /// The <paramref name="k"/> largest (algebraic) eigenvalues. Stops when every one of them has a Ritz
    /// residual |β_j·s_j| ≤ <paramref name="tolerance"/>·|θ| (the eigenvalue error is at most about the squared
    /// residual over the gap), or after <paramref name="maxSteps"/> products.
    /// </summary>
    /// <param name="onStep">Called after every step from the k-th on with the step count and the current top-k Ritz values (for studies of
    /// convergence).</param>
    public static EigenvalueResult TopEigenvalues(ICurvatureProduct op, int k = 1, double tolerance = 1e-6, int maxSteps = 100,
        long seed = 0, CancellationToken cancellationToken = default, Action<int, IReadOnlyList<double>>? onStep = null)
    {
        if (k < 1) throw new BasinException($"number of eigenvalues must be at least 1, got {k}");
        if (k > op.Dimension) throw new BasinException($"asked for {k} eigenvalues of a {op.Dimension}-dimensional operator");
        maxSteps = (int)Math.Min(Math.Max(maxSteps, k), op.Dimension);
        double[] top = [];
        bool converged = false;
        var run = Run(op, maxSteps, seed, cancellationToken, minSteps: k, stop: (alpha, beta) =>
        {
            if (alpha.Count < k) return false;
            var (values, vectors) = Tridiagonal.Eigen(alpha, beta);
            int m = alpha.Count;
            double lastBeta = beta.Count >= m ? beta[m - 1] : 0;
            top = values.Reverse().Take(k).ToArray();
            onStep?.Invoke(m, top);
            converged = true;
            for (int i = 0; i < k; i++)
            {
                int col = m - 1 - i;
                double residual = Math.Abs(lastBeta * vectors[m - 1, col]);
                if (residual > tolerance * Math.Max(Math.Abs(values[col]), 1e-12)) { converged = false; break; }
            }
            return converged;
        });
        if (!converged)
        {
            var (values, _) = Tridiagonal.Eigen(run.Alpha, run.Beta.Take(run.Alpha.Count - 1).ToArray());
            top = values.Reverse().Take(k).ToArray();
            converged = run.InvariantSubspace && top.Length == k;
        }
        return new EigenvalueResult(top, run.Products, converged);
    }

    /// <summary>
    /// The <paramref name="k"/> largest eigenvalues and their unit Ritz vectors (largest first), from a Lanczos run that stops when
    /// every Ritz residual is at most <paramref name="tolerance"/>·|θ| or after <paramref name="maxSteps"/> products. The vectors are
    /// new tensors in the caller's dispose scope.
    /// </summary>
    public static (Tensor[][] Vectors, double[] Values) TopEigenvectors(ICurvatureProduct op, int k = 1, int maxSteps = 100, long seed = 0,
        CancellationToken cancellationToken = default, double tolerance = 1e-4)
    {
        if (k < 1) throw new BasinException($"number of eigenvectors must be at least 1, got {k}");
        if (k > op.Dimension) throw new BasinException($"asked for {k} eigenvectors of a {op.Dimension}-dimensional operator");
        maxSteps = (int)Math.Min(Math.Max(maxSteps, k), op.Dimension);
        using var scope = torch.NewDisposeScope();
        var basis = new List<Tensor[]>();
        var run = Run(op, maxSteps, seed, cancellationToken, minSteps: k, keepBasis: basis, stop: (alpha, beta) =>
        {
            if (alpha.Count < k) return false;
            var (values, vectors) = Tridiagonal.Eigen(alpha, beta);
            int m = alpha.Count;
            for (int i = 0; i < k; i++)
            {
                int col = m - 1 - i;
                if (Math.Abs(beta[m - 1] * vectors[m - 1, col]) > tolerance * Math.Max(Math.Abs(values[col]), 1e-12)) return false;
            }
            return true;
        });
        int steps = run.Alpha.Count;
        var (ritz, s) = Tridiagonal.Eigen(run.Alpha, run.Beta.Take(steps - 1).ToArray());
        var result = new Tensor[k][];
        var top = new double[k];
        for (int i = 0; i < k; i++)
        {
            int col = steps - 1 - i;
            top[i] = ritz[col];
            var v = ParamVectors.Zeros(op.Shapes, op.DType);
            for (int j = 0; j < steps; j++)
            {
                using var c = s[j, col].ToScalar();
                for (int p = 0; p < v.Length; p++) v[p].add_(basis[j][p], c);
            }
            var unit = ParamVectors.Normalize(v);
            result[i] = unit.Select(t => t.MoveToOuterDisposeScope()).ToArray();
        }
        return (result, top);
    }

    internal sealed record RunResult(List<double> Alpha, List<double> Beta, long Products, bool InvariantSubspace);

    /// <summary>
    /// Runs up to <paramref name="maxSteps"/> Lanczos steps from a normalized Rademacher start vector (or
    /// <paramref name="start"/>). After each step <paramref name="stop"/> sees α_1..α_j and β_1..β_j
    /// (β_j couples step j to the next) and may end the run.
    /// </summary>
    internal static RunResult Run(ICurvatureProduct op, int maxSteps, long seed, CancellationToken cancellationToken,
        Func<List<double>, List<double>, bool>? stop = null, IReadOnlyList<Tensor>? start = null, int minSteps = 0,
        List<Tensor[]>? keepBasis = null)
    {
        var alpha = new List<double>();
        var beta = new List<double>();
        var basis = new List<IReadOnlyList<Tensor>>();
        long products = 0;
        bool invariant = false;
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(unchecked((ulong)seed));
        var q = ParamVectors.Normalize(start ?? ParamVectors.Rademacher(op.Shapes, op.DType, generator));
        double scale = 0;
        for (int j = 0; j < maxSteps; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            basis.Add(q);
            var w = op.Apply(q);
            products++;
            double a = ParamVectors.Dot(w, q);
            alpha.Add(a);
            // Full reorthogonalization against every basis vector, which also removes the α_j q_j and β_{j-1} q_{j-1} terms.
            ParamVectors.Orthogonalize(w, basis);
            double b = ParamVectors.Norm(w);
            beta.Add(b);
            scale = Math.Max(scale, Math.Abs(a) + b);
            if (stop is not null && stop(alpha, beta)) break;
            if (b <= 1e-10 * Math.Max(scale, 1e-300))
            {
                // The Krylov space is invariant: its Ritz values are exact. If fewer than minSteps values are known
                // (a low-rank operator, e.g. a head's Hessian), restart from a random vector orthogonal to the basis;
                // the coupling β is then exactly 0 and T stays QᵀHQ (block-diagonal).
                if (alpha.Count >= minSteps || alpha.Count >= op.Dimension) { invariant = true; break; }
                beta[^1] = 0;
                var fresh = ParamVectors.Rademacher(op.Shapes, op.DType, generator);
                ParamVectors.Orthogonalize(fresh, basis);
                if (ParamVectors.Norm(fresh) == 0) { invariant = true; break; }
                q = ParamVectors.Normalize(fresh);
                continue;
            }
            q = ParamVectors.Scale(w, 1 / b);
        }
        // The caller asked for the Krylov basis q_1..q_m (Ritz vectors): move it out of this scope into the caller's.
        if (keepBasis is not null)
            foreach (var v in basis) keepBasis.Add(v.Select(t => t.MoveToOuterDisposeScope()).ToArray());
        return new RunResult(alpha, beta, products, invariant);
    }
}
