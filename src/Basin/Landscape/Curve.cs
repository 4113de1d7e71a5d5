using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>The family of a curve with end points θ_A, θ_B and one trained control point θ_C.</summary>
public enum CurveKind
{
    /// <summary>Quadratic Bézier: θ(t) = (1 − t)²θ_A + 2t(1 − t)θ_C + t²θ_B.</summary>
    Bezier,
    /// <summary>Polygonal chain: θ_A → θ_C on t ∈ [0, ½], θ_C → θ_B on [½, 1].</summary>
    PolyChain,
}

/// <summary>
/// A curve θ(t) between two fixed end points through one control point ("Loss Surfaces, Mode Connectivity, and Fast Ensembling of
/// DNNs", Garipov et al. 2018). The end points are private copies that nothing writes to; θ_C is the only trainable part.
/// </summary>
public sealed class Curve : IDisposable
{
    readonly Tensor[] a;
    readonly Tensor[] b;

    /// <summary>A curve whose control point starts at the midpoint (θ_A + θ_B)/2, which makes the Bézier exactly the straight
    /// line.</summary>
    public Curve(CurveKind kind, IReadOnlyList<Tensor> start, IReadOnlyList<Tensor> end)
    {
        if (start.Count != end.Count || start.Zip(end).Any(p => !p.First.shape.SequenceEqual(p.Second.shape)))
            throw new BasinException("the two end points of a curve must have the same architecture");
        Kind = kind;
        using var noGrad = torch.no_grad();
        a = start.Select(t => t.detach().clone()).ToArray();
        b = end.Select(t => t.detach().clone()).ToArray();
        using var half = 0.5.ToScalar();
        Control = a.Zip(b, (x, y) => x.add(y, Scalars.One).mul_(half)).ToArray();
    }

    public CurveKind Kind { get; }
    public IReadOnlyList<Tensor> Start => a;
    public IReadOnlyList<Tensor> End => b;

    /// <summary>The control point θ_C (trained in place).</summary>
    public Tensor[] Control { get; }

    /// <summary>The weights of θ_A, θ_C and θ_B in θ(t); they sum to 1.</summary>
    public static (double A, double C, double B) Coefficients(CurveKind kind, double t)
    {
        if (!(t >= 0 && t <= 1)) throw new BasinException($"a curve is defined for t in [0, 1], got {t}");
        return kind switch
        {
            CurveKind.Bezier => ((1 - t) * (1 - t), 2 * t * (1 - t), t * t),
            _ => (Math.Max(0, 1 - 2 * t), 1 - Math.Abs(2 * t - 1), Math.Max(0, 2 * t - 1)),
        };
    }

    /// <summary>Writes θ(t) into <paramref name="target"/> in place (θ(0) = θ_A and θ(1) = θ_B exactly).</summary>
    public void WriteAt(double t, IReadOnlyList<Tensor> target)
    {
        var (ca, cc, cb) = Coefficients(Kind, t);
        using var noGrad = torch.no_grad();
        using var sa = ca.ToScalar();
        using var sc = cc.ToScalar();
        using var sb = cb.ToScalar();
        for (int p = 0; p < a.Length; p++)
        {
            target[p].copy_(a[p]).mul_(sa);
            if (cc != 0) target[p].add_(Control[p], sc);
            if (cb != 0) target[p].add_(b[p], sb);
        }
    }

    public void Dispose()
    {
        foreach (var t in a.Concat(b).Concat(Control)) t.Dispose();
    }
}
