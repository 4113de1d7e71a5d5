using System.Text.Json;
using Basin.Training.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// SAM ("Sharpness-Aware Minimization for Efficiently Improving Generalization", Foret et al. 2021):
/// g = ∇L(w), e = ρ·g/‖g‖ (‖·‖ over all trainable parameters together), step with ∇L(w + e) computed on the same
/// batch, weights restored. Two forward-backward passes per step. With batch normalization the second pass
/// updates the running statistics a second time (as in the common PyTorch implementations).
/// </summary>
public sealed record Sam(double Rho = Sam.DefaultRho) : WeightPerturbation
{
    /// <summary>SAM's neighbourhood radius in the paper (Foret et al.).</summary>
    public const double DefaultRho = 0.05;

    public override string Name => $"sam(ρ {Rho})";

    protected override Tensor?[] Perturbation(IReadOnlyList<NamedParameter> parameters, Tensor?[] gradients)
    {
        if (!(Rho > 0) || double.IsInfinity(Rho)) throw new BasinException($"SAM ρ must be a finite number > 0, got {Rho}");
        double norm = JointNorm(gradients);
        // A zero gradient gives no direction: e = 0 (the step is then the plain one).
        double scale = norm > 0 ? Rho / norm : 0;
        using var s = scale.ToScalar();
        return gradients.Select(g => g?.mul(s)).ToArray();
    }
}

/// <summary>SAM in the method catalog: --rho.</summary>
sealed class SamEntry : MethodEntry
{
    public override int Order => 10;
    public static readonly Setting<double> Rho = Setting.Of("rho", "SAM/ASAM: neighbourhood radius ρ > 0", Sam.DefaultRho, Check.Positive);

    public override string Name => "sam";
    public override MethodStage Stage => MethodStage.GradientProcedure;
    public override string Summary => "sharpness-aware minimization: the gradient at w + ρ·g/‖g‖ (Foret et al. 2021)";
    public override IReadOnlyList<MethodSetting> Settings => [Rho];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe.With(new Sam(Rho.Value(values, context)));
}
