using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// ASAM ("ASAM: Adaptive Sharpness-Aware Minimization for Scale-Invariant Learning of Deep Neural Networks",
/// Kwon et al. 2021): SAM in the normalized coordinates T_w⁻¹w with T_w = |w| + η elementwise, so
/// e = ρ·T_w² g / ‖T_w g‖ and ‖T_w⁻¹ e‖ = ρ. Applied to every trainable parameter, biases included.
/// </summary>
public sealed record Asam(double Rho = 0.5, double Eta = 0.01) : WeightPerturbation
{
    public override string Name => $"asam(ρ {Rho}, η {Eta})";

    protected override Tensor?[] Perturbation(IReadOnlyList<NamedParameter> parameters, Tensor?[] gradients)
    {
        if (!(Rho > 0) || double.IsInfinity(Rho)) throw new BasinException($"ASAM ρ must be a finite number > 0, got {Rho}");
        if (!(Eta >= 0) || double.IsInfinity(Eta)) throw new BasinException($"ASAM η must be a finite number ≥ 0, got {Eta}");
        var t = new Tensor?[gradients.Length];
        var tg = new Tensor?[gradients.Length];
        for (int i = 0; i < gradients.Length; i++)
        {
            if (gradients[i] is not { } g) continue;
            using var eta = Eta.ToScalar();
            t[i] = parameters[i].Value.detach().abs().add(eta, Scalars.One);
            tg[i] = t[i]!.mul(g);
        }
        double norm = JointNorm(tg);
        double scale = norm > 0 ? Rho / norm : 0;
        var e = new Tensor?[gradients.Length];
        using var s = scale.ToScalar();
        for (int i = 0; i < gradients.Length; i++)
            if (tg[i] is { } x) e[i] = t[i]!.mul(x).mul(s);
        return e;
    }
}
