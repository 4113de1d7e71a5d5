using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>A small network at a critical point together with the data that makes it critical.</summary>
public sealed record CriticalPoint(string Name, SmoothNet Net, FitData Data, int Layer, int Unit) : IDisposable
{
    public void Dispose() => Data.Dispose();
}

/// <summary>
/// The constructed 12-point regression example with B ≻ 0: 1 input, 1 sigmoid unit, a linear output with bias,
/// L = (1/2N) Σ (f − y)², θ* = (w = 1, b = 0, v = 1, c = 0). With A the 4×12 matrix of rows 1, σ(x), σ'(x), σ'(x)·x
/// (the columns of the Jacobian of f at θ*) and a fixed c0, e = c0 − Aᵀ(AAᵀ)⁻¹A c0 scaled to ‖e‖ = 1 and y = σ(x) − e:
/// the residual is orthogonal to the Jacobian, so ∇L(θ*) = 0, and L* = ‖e‖²/(2N) = 1/24.
/// </summary>
public static class ConstructedExample
{
    public static IReadOnlyList<double> Inputs { get; } = [-8, -6, -4.5, -3, -2.2, -1.3, -0.6, 0, 1, 2.5, 4, 6];
    public static IReadOnlyList<double> Direction { get; } = [-0.29, 0.05, 0.20, 0.16, 0.05, -0.51, 0.41, 0.07, -0.32, 0.42, -0.35, 0.11];

    /// <summary>The fixture: split unit 1 of hidden layer 1.</summary>
    public static CriticalPoint Create()
    {
        int n = Inputs.Count;
        var s = Inputs.Select(Sigmoid).ToArray();
        var ds = s.Select(v => v * (1 - v)).ToArray();
        var a = new double[4, n];
        for (int i = 0; i < n; i++)
        {
            a[0, i] = 1;
            a[1, i] = s[i];
            a[2, i] = ds[i];
            a[3, i] = ds[i] * Inputs[i];
        }
        var e = ProjectOut(a, Direction.ToArray());
        double norm = NetLoss.Norm(e);
        var x = new double[n, 1];
        var y = new double[n, 1];
        for (int i = 0; i < n; i++)
        {
            x[i, 0] = Inputs[i];
            y[i, 0] = s[i] - e[i] / norm;
        }
        var net = new SmoothNet([1, 1, 1], Activation.Sigmoid, [1.0, 0.0, 1.0, 0.0]);
        return new CriticalPoint("fixture", net, FitData.Regression(x, y), 1, 1);
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>c − Aᵀ(AAᵀ)⁻¹A c: the part of c orthogonal to A's rows (float64 least squares).</summary>
    public static double[] ProjectOut(double[,] a, double[] c)
    {
        if (a.GetLength(1) != c.Length) throw new BasinException($"cannot project a vector of {c.Length} entries on rows of {a.GetLength(1)}");
        using var scope = torch.NewDisposeScope();
        var at = torch.tensor(a, dtype: float64);
        var ct = torch.tensor(c, dtype: float64).unsqueeze(1);
        // Least squares on Aᵀ (c ≈ Aᵀk) through the pseudo-inverse: robust when A's rows are nearly dependent.
        var k = torch.linalg.pinv(at.t()).matmul(ct);
        return ct.sub(at.t().matmul(k)).squeeze(1).contiguous().data<double>().ToArray();
    }
}
