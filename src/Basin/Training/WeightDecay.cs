using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// L2 weight decay as an objective term, α/2·Σ‖w‖², so its gradient is α·w: the same step as
/// torch.optim.SGD/Adam's coupled weight_decay=α. By default it covers every trainable parameter,
/// weights and biases alike (what torch's weight_decay does); <see cref="IncludeBiases"/> = false
/// leaves out parameters whose name ends in "bias".
/// </summary>
public sealed record WeightDecay(double Alpha) : IObjectiveTerm
{
    public double Alpha { get; init; } = Check.NonNegative(Alpha, "weightDecay");

    public bool IncludeBiases { get; init; } = true;

    public string Name => "weight_decay";

    public Tensor Compute(ObjectiveContext context)
    {
        Tensor? sum = null;
        var parameters = context.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (!IncludeBiases && p.IsBias) continue;
            var s = p.Value.pow(Scalars.Two).sum();
            sum = sum is null ? s : sum.add(s, Scalars.One);
        }
        if (sum is null) return zeros(1, device: context.Logits.device).sum();
        using var half = (Alpha / 2).ToScalar();
        return sum.mul(half);
    }
}
