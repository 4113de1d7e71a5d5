namespace Basin.Minima;

/// <summary>Options of <see cref="NewtonSolver"/>.</summary>
public sealed record NewtonOptions
{
    /// <summary>Stop when ‖∇L‖ ≤ this.</summary>
    public double GradientTolerance { get; init; } = 1e-10;
    public int MaxIterations { get; init; } = 300;
    /// <summary>The first trust-region radius.</summary>
    public double InitialRadius { get; init; } = 1;
    public double MaxRadius { get; init; } = 100;

    public void Check()
    {
        if (!(GradientTolerance > 0)) throw new BasinException($"the gradient tolerance must be positive, got {GradientTolerance}");
        if (MaxIterations < 1) throw new BasinException($"the solver needs at least 1 iteration, got {MaxIterations}");
        if (!(InitialRadius > 0 && MaxRadius >= InitialRadius))
            throw new BasinException($"trust radii must satisfy 0 < initial ≤ max, got {InitialRadius} and {MaxRadius}");
    }
}

/// <summary>
/// The result of a Newton solve: the final network, its loss and gradient norm, and its Hessian's extreme eigenvalues.
/// A strict local minimum has Converged and SmallestEigenvalue &gt; 0.
/// </summary>
public sealed record SolveResult(SmoothNet Net, double Loss, double GradientNorm, int Iterations, bool Converged,
    double SmallestEigenvalue, double LargestEigenvalue)
{
    /// <summary>Converged, a positive definite Hessian (smallest eigenvalue above 1e-9 of the largest) and no parameter beyond <paramref
    /// name="maxAbs"/>.</summary>
    public bool IsStrictMinimum(double maxAbs = 30) =>
        Converged && SmallestEigenvalue > 1e-9 * LargestEigenvalue && Net.Theta.All(t => Math.Abs(t) <= maxAbs);
}

/// <summary>
/// Newton's method with a trust region in float64 (Nocedal &amp; Wright, "Numerical Optimization", ch. 4): the exact
/// subproblem through the Hessian's eigendecomposition (so negative curvature is used, not ignored), steps accepted
/// when the reduction ratio exceeds 0.1. Near convergence the loss changes below rounding, so a step whose predicted
/// reduction is below 1e-14·|L| is accepted when it shrinks the gradient. For tiny networks (dense Hessian).
/// </summary>
public static class NewtonSolver
{
    public static SolveResult Minimize(SmoothNet start, FitData data, NewtonOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        options ??= new NewtonOptions();
        options.Check();
        var net = start;
        double radius = options.InitialRadius;
        var (loss, g) = NetLoss.LossAndGradient(net, data);
        SymmetricEigen eigen = SymmetricEigen.Of(NetLoss.Hessian(net, data));
        int it = 0;
        for (; it < options.MaxIterations && NetLoss.Norm(g) > options.GradientTolerance; it++)
        {
            ct.ThrowIfCancellationRequested();
            var step = Subproblem(eigen, g, radius);
            double stepNorm = NetLoss.Norm(step);
            double predicted = -(Dot(g, step) + 0.5 * Curvature(eigen, step));
            var trial = net.With(net.Theta.Select((t, i) => t + step[i]).ToArray());
            var (trialLoss, trialG) = NetLoss.LossAndGradient(trial, data);
            double actual = loss - trialLoss;
            double rho = predicted > 0 ? actual / predicted : -1;
            bool tiny = predicted <= 1e-14 * Math.Max(Math.Abs(loss), 1e-300) && trialLoss <= loss + 1e-15 * Math.Abs(loss);
            bool accept = double.IsFinite(trialLoss) && (rho > 0.1 || (tiny && NetLoss.Norm(trialG) < NetLoss.Norm(g)));
            if (!double.IsFinite(trialLoss) || rho < 0.25) radius = 0.25 * Math.Max(stepNorm, 1e-12 * radius);
            else if (rho > 0.75 && stepNorm >= 0.99 * radius) radius = Math.Min(2 * radius, options.MaxRadius);
            if (accept)
            {
                net = trial;
                loss = trialLoss;
                g = trialG;
                eigen = SymmetricEigen.Of(NetLoss.Hessian(net, data));
            }
            else if (radius < 1e-300) break;
        }
        double norm = NetLoss.Norm(g);
        return new SolveResult(net, loss, norm, it, norm <= options.GradientTolerance, eigen.Smallest, eigen.Largest);
    }

    /// <summary>argmin gᵀp + ½pᵀHp over ‖p‖ ≤ Δ, exactly in H's eigenbasis (the "hard case" steps along the lowest
    /// eigenvector).</summary>
    public static double[] Subproblem(SymmetricEigen eigen, double[] g, double radius)
    {
        int n = g.Length;
        var gq = eigen.Vectors.Select(q => Dot(q, g)).ToArray();
        var values = eigen.Values;
        double lowest = values[0];
        double Norm(double mu)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                double d = values[i] + mu;
                s += gq[i] * gq[i] / (d * d);
            }
            return Math.Sqrt(s);
        }
        double[] Step(double mu, int skipBelow = -1)
        {
            var p = new double[n];
            for (int i = 0; i < n; i++)
            {
                double d = values[i] + mu;
                if (i <= skipBelow || d <= 0) continue;
                double c = -gq[i] / d;
                for (int j = 0; j < n; j++) p[j] += c * eigen.Vectors[i][j];
            }
            return p;
        }
        if (lowest > 0 && Norm(0) <= radius) return Step(0);
        double lo = Math.Max(0, -lowest);
        double scale = Math.Max(Math.Abs(lowest), Math.Abs(values[^1]));
        double start = lo + 1e-12 * Math.Max(scale, 1e-300);
        // Hard case: the gradient has (almost) no component along the lowest eigenvectors, so no μ > −λ₁ reaches the boundary.
        if (lowest <= 0 && Norm(start) < radius)
        {
            int bottom = 0;
            while (bottom + 1 < n && values[bottom + 1] + lo <= 1e-12 * Math.Max(scale, 1e-300)) bottom++;
            var p = Step(lo, bottom);
            double rest = Math.Sqrt(Math.Max(0, radius * radius - Dot(p, p)));
            var q = eigen.Vectors[0];
            double sign = Dot(q, g) > 0 ? -1 : 1;
            for (int j = 0; j < n; j++) p[j] += sign * rest * q[j];
            return p;
        }
        double hi = lo + NetLoss.Norm(g) / radius + scale + 1;
        for (int k = 0; k < 200 && hi - lo > 1e-15 * hi; k++)
        {
            double mid = 0.5 * (lo + hi);
            if (Norm(mid) > radius) lo = mid; else hi = mid;
        }
        return Step(hi);
    }

    static double Curvature(SymmetricEigen eigen, double[] p)
    {
        double s = 0;
        for (int i = 0; i < eigen.Values.Length; i++)
        {
            double c = Dot(eigen.Vectors[i], p);
            s += eigen.Values[i] * c * c;
        }
        return s;
    }

    internal static double Dot(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Count; i++) s += a[i] * b[i];
        return s;
    }
}
