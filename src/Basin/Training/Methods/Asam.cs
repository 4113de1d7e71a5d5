using System.Text.Json;
using Basin.Training.Catalog;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// ASAM ("ASAM: Adaptive Sharpness-Aware Minimization for Scale-Invariant Learning of Deep Neural Networks",
/// Kwon et al. 2021): SAM in the normalized coordinates T_w⁻¹w with T_w = |w| + η elementwise, so
/// e = ρ·T_w² g / ‖T_w g‖ and ‖T_w⁻¹ e‖ = ρ. Applied to every trainable parameter, biases included.
/// </summary>
public sealed record Asam(double Rho = Asam.DefaultRho, double Eta = Asam.DefaultEta) : WeightPerturbation
{
    /// <summary>ASAM's defaults in the paper (Kwon et al.).</summary>
    public const double DefaultRho = 0.5, DefaultEta = 0.01;

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

/// <summary>ASAM in the method catalog: --rho, --eta.</summary>
sealed class AsamEntry : MethodEntry
{
    public override int Order => 20;
    static readonly Setting<double> Rho = SamEntry.Rho with { Default = _ => Asam.DefaultRho, DefaultDescription = "0.5" };
    static readonly Setting<double> Eta = Setting.Of("eta", "ASAM: η in T_w = |w| + η", Asam.DefaultEta, Check.NonNegative);

    public override string Name => "asam";
    public override MethodStage Stage => MethodStage.GradientProcedure;
    public override string Summary => "adaptive SAM: the radius scaled by |w| + η (Kwon et al. 2021)";
    public override IReadOnlyList<MethodSetting> Settings => [Rho, Eta];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe.With(new Asam(Rho.Value(values, context), Eta.Value(values, context)));
}
