using Basin.Native;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>What the constructed residual is built to feed.</summary>
public enum ResidualFeed
{
    /// <summary>The part of M that v*ᵀM = 0 leaves free (needs a next layer of at least 2 units).</summary>
    M,
    /// <summary>The trace of B (pushes B towards positive definite).</summary>
    B,
    /// <summary>Both: the M part plus <see cref="ConstructionSpec.BWeight"/> times the B part (each normalized).</summary>
    Both,
}

/// <summary>How to build a constructed critical point (see <see cref="ConstructedCritical"/>).</summary>
public sealed record ConstructionSpec
{
    /// <summary>Layer sizes: inputs, hidden widths, outputs.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [2, 3, 2, 1];
    public Activation Activation { get; init; } = Activation.Sigmoid;
    /// <summary>Points uniform in [−2, 2]^d.</summary>
    public int Count { get; init; } = 60;
    /// <summary>The hidden layer and unit (1-based) the residual is built for.</summary>
    public int Layer { get; init; } = 1;
    public int Unit { get; init; } = 1;
    public ResidualFeed Feed { get; init; } = ResidualFeed.M;
    /// <summary>θ* ~ WeightScale·N(0, I).</summary>
    public double WeightScale { get; init; } = 0.8;
    /// <summary>
    /// ‖e‖ = ResidualScale·√N; null: a quarter of the largest scale at which the small network's Hessian stays positive
    /// definite, so the constructed point is a strict minimum.
    /// </summary>
    public double? ResidualScale { get; init; }
    public long Seed { get; init; } = 1;
    /// <summary>The weight of the B part when feeding both.</summary>
    public double BWeight { get; init; } = 1;
    /// <summary>A vector c_base [N·K, example-major] added to the fed one: c0 = c_base + FeedWeight·‖c_base‖·ĉ_feed (null:
    /// none).</summary>
    public IReadOnlyList<double>? BaseDirection { get; init; }
    /// <summary>The weight of the fed vector relative to the base direction.</summary>
    public double FeedWeight { get; init; } = 1;
    /// <summary>θ* itself instead of a random draw (null: random).</summary>
    public IReadOnlyList<double>? Theta { get; init; }
    /// <summary>The inputs [N·d, example-major] instead of random points (null: Count random points).</summary>
    public IReadOnlyList<double>? Inputs { get; init; }

    public void Check()
    {
        if (Count < 1) throw new BasinException($"the construction needs at least 1 point, got {Count}");
        if (!(WeightScale > 0) || ResidualScale is { } r && !(r > 0))
            throw new BasinException($"weight and residual scales must be positive, got {WeightScale} and {ResidualScale}");
    }
}

/// <summary>
/// Critical points built rather than trained (trained deep sigmoid networks drift to saturation and never reach strict minima):
/// random θ* and inputs, J the Jacobian of all outputs with respect to θ (exact, autograd), a vector c0 that feeds M or B,
/// e = c0 projected onto null(Jᵀ) and scaled, targets y = f(x) − e. Then ∇L(θ*) = Jᵀe/N = 0 up to rounding for the squared
/// error L = (1/2N) Σ ‖f − y‖², while M (or B) keeps the part of c0 that survives the projection.
/// </summary>
public static class ConstructedCritical
{
    public static CriticalPoint Build(string name, ConstructionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Check();
        var rng = SeededRandom.Create(spec.Seed);
        var sizes = spec.Sizes.ToArray();
        var theta = spec.Theta?.ToArray() ?? Enumerable.Range(0,
            (int)SmoothNet.ParameterCount(sizes)).Select(_ => spec.WeightScale * rng.NextGaussian()).ToArray();
        var net = new SmoothNet(sizes, spec.Activation, theta);
        net.CheckUnit(spec.Layer, spec.Unit);
        int k = sizes[^1], d = sizes[0];
        if (spec.Inputs is { } given && (given.Count == 0 || given.Count % d != 0))
            throw new BasinException($"the inputs must hold a multiple of {d} values, got {given.Count}");
        int n = spec.Inputs is null ? spec.Count : spec.Inputs.Count / d;
        var x = new double[n, d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i, j] = spec.Inputs?[i * d + j] ?? rng.NextDouble() * 4 - 2;
        var y = new double[n, k];
        double residualScale;
        using (var scope = torch.NewDisposeScope())
        {
            var xt = torch.tensor(x, dtype: float64);
            var c0 = Feed(net, xt, spec, rng);
            if (spec.BaseDirection is { } cb)
            {
                if (cb.Count != c0.Length) throw new BasinException($"the base direction needs {c0.Length} values (N·K), got {cb.Count}");
                double bn = NetLoss.Norm(cb.ToArray()), fn = NetLoss.Norm(c0);
                c0 = cb.Select((b, i) => b + spec.FeedWeight * bn * c0[i] / fn).ToArray();
            }
            var (f, jacobian) = Jacobian(net, xt);
            var e = ConstructedExample.ProjectOut(jacobian, c0);
            double norm = NetLoss.Norm(e);
            if (!(norm > 1e-12 * NetLoss.Norm(c0)))
                throw new BasinException("the fed residual lies in the span of the Jacobian: nothing survives the projection (try more " +
                    "points)");
            for (int i = 0; i < e.Length; i++) e[i] *= Math.Sqrt(n) / norm;
            residualScale = spec.ResidualScale ?? 0.25 * LargestStrictScale(net, x, f, e);
            for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) y[i, j] = f[i * k + j] - residualScale * e[i * k + j];
        }
        return new CriticalPoint($"{name} (‖e‖/√N = {residualScale:G3})", net, FitData.Regression(x, y), spec.Layer, spec.Unit);
    }

    /// <summary>
    /// The largest s for which the Hessian at targets f − s·e is positive definite. The squared-error Hessian is
    /// G + sR (G = JᵀJ/N, R = (1/N) Σ e ∇²f), so s* = 1/λ_max(G^{−1/2}(−R)G^{−1/2}).
    /// </summary>
    static double LargestStrictScale(SmoothNet net, double[,] x, double[] f, double[] e)
    {
        int n = x.GetLength(0), k = f.Length / n;
        double[,] Hessian(double s)
        {
            var y = new double[n, k];
            for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) y[i, j] = f[i * k + j] - s * e[i * k + j];
            using var data = FitData.Regression(x, y);
            return NetLoss.Hessian(net, data);
        }
        var g = Hessian(0);
        var h1 = Hessian(1);
        var ge = SymmetricEigen.Of(g);
        if (!(ge.Smallest > 1e-13 * ge.Largest))
            throw new BasinException($"the Jacobian is (nearly) rank deficient (eig(JᵀJ/N) from {ge.Smallest:E2} to " +
                $"{ge.Largest:E2}): no residual makes a strict minimum");
        int p = g.GetLength(0);
        // K = G^{−1/2}(−R)G^{−1/2} in G's eigenbasis: K_ab = −q_aᵀ R q_b / √(λ_a λ_b).
        var kmat = new double[p, p];
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
            {
                double s = 0;
                for (int i = 0; i < p; i++)
                {
                    double row = 0;
                    for (int j = 0; j < p; j++) row += (h1[i, j] - g[i, j]) * ge.Vectors[b][j];
                    s += ge.Vectors[a][i] * row;
                }
                kmat[a, b] = -s / Math.Sqrt(ge.Values[a] * ge.Values[b]);
            }
        for (int a = 0; a < p; a++) for (int b = a + 1; b < p; b++) kmat[a, b] = kmat[b, a] = 0.5 * (kmat[a, b] + kmat[b, a]);
        double top = SymmetricEigen.Of(kmat).Largest;
        return top > 0 ? 1 / top : 1;
    }

    /// <summary>The outputs (flattened, example-major) and the Jacobian [P, N·K] of all of them (rows: parameters).</summary>
    static (double[] Outputs, double[,] Jacobian) Jacobian(SmoothNet net, Tensor x)
    {
        var theta = net.ThetaTensor().requires_grad_(true);
        var f = net.Forward(theta, x).flatten();
        int m = (int)f.shape[0], p = net.ParameterCount();
        var jac = new double[p, m];
        using var one = 1.0.ToScalar();
        for (int i = 0; i < m; i++)
        {
            using var inner = torch.NewDisposeScope();
            var seed = torch.zeros(m, dtype: float64);
            seed.narrow(0, i, 1).fill_(one);
            var row = torch.autograd.grad([f], [theta], [seed], retain_graph: true)[0].data<double>().ToArray();
            for (int j = 0; j < p; j++) jac[j, i] = row[j];
        }
        return (f.detach().contiguous().data<double>().ToArray(), jac);
    }

    /// <summary>
    /// c0 with ⟨c0, e⟩ = ⟨A, M(e)⟩ for a random A with v*ᵀA = 0 (feed M), or = trace B(e) (feed B); M(e) and B(e) are linear in
    /// the residual e = f − y through δ_n = (1/N) J⁽ˡ⁺¹⁾_nᵀ e_n, J⁽ˡ⁺¹⁾_n = ∂f_n/∂z⁽ˡ⁺¹⁾_n.
    /// </summary>
    static double[] Feed(SmoothNet net, Tensor x, ConstructionSpec spec, Random rng)
    {
        int layer = spec.Layer, n = (int)x.shape[0], k = net.Sizes[^1], next = net.Sizes[layer + 1], width = net.Sizes[layer - 1] + 1;
        var theta = net.ThetaTensor();
        var trace = net.Trace(theta, x, upToLayer: layer);
        var z = trace.Pre[layer - 1].select(1, spec.Unit - 1);
        var input = torch.cat([trace.Activations[layer - 1], torch.ones(n, 1, dtype: float64)], dim: 1);
        var (d1, d2) = net.Derivatives(z);
        var v = NeuronSplit.Outgoing(net, layer, spec.Unit);
        if (spec.Feed != ResidualFeed.B && next < 2)
            throw new BasinException($"M vanishes when the next layer has one unit; layer {layer + 1} has {next}: feed B instead");
        // w_n ∈ R^{next}: the vector that δ_n is paired with, for M (random A with v*ᵀA = 0) and for trace B.
        Tensor? wM = null, wB = null;
        if (spec.Feed != ResidualFeed.B)
        {
            var a = new double[next, width];
            double vv = v.Sum(t => t * t);
            for (int j = 0; j < width; j++)
            {
                for (int i = 0; i < next; i++) a[i, j] = rng.NextGaussian();
                double dot = 0;
                for (int i = 0; i < next; i++) dot += v[i] * a[i, j];
                for (int i = 0; i < next; i++) a[i, j] -= v[i] * dot / vv;
            }
            wM = input.matmul(torch.tensor(a, dtype: float64).t()).mul(d1.unsqueeze(1));
        }
        if (spec.Feed != ResidualFeed.M)
            wB = d2.mul(input.pow(Scalars.Two).sum(dim: 1)).unsqueeze(1).mul(torch.tensor(v, dtype: float64).unsqueeze(0));
        // c0_n = J⁽ˡ⁺¹⁾_n w_n (the 1/N is a common factor and dropped), by one backward pass per output.
        var next0 = net.Trace(theta, x, upToLayer: layer + 1).Pre[layer].detach().requires_grad_(true);
        var f = net.ForwardFrom(theta, next0, layer + 1);
        var jacobians = Enumerable.Range(0, k).Select(o => torch.autograd.grad([f.select(1, o).sum()], [next0],
            retain_graph: true)[0]).ToArray();
        double[] Pair(Tensor w)
        {
            var c = new double[n * k];
            for (int o = 0; o < k; o++)
            {
                var co = jacobians[o].mul(w).sum(dim: 1).contiguous().data<double>().ToArray();
                for (int i = 0; i < n; i++) c[i * k + o] = co[i];
            }
            double norm = NetLoss.Norm(c);
            return norm > 0 ? c.Select(t => t / norm).ToArray() : c;
        }
        var c0 = new double[n * k];
        foreach (var (w, weight) in new[] { (wM, 1.0), (wB, spec.Feed == ResidualFeed.Both ? spec.BWeight : 1.0) })
            if (w is not null)
            {
                var c = Pair(w);
                for (int i = 0; i < c0.Length; i++) c0[i] += weight * c[i];
            }
        return c0;
    }
}
