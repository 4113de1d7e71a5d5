using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// SAM ("Sharpness-Aware Minimization for Efficiently Improving Generalization", Foret et al. 2021):
/// g = ∇L(w), e = ρ·g/‖g‖ (‖·‖ over all trainable parameters together), step with ∇L(w + e) computed on the same
/// batch, weights restored. Two forward-backward passes per step. With batch normalization the second pass
/// updates the running statistics a second time (as in the common PyTorch implementations).
/// </summary>
public sealed record Sam(double Rho = 0.05) : WeightPerturbation
{
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
