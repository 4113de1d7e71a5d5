using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// The trajectory loss of "Sharpness-Aware Training for Free" (SAF/MESA, 2022):
/// λ·τ²·KL( softmax(z_ref/τ) ‖ softmax(z/τ) ), summed over the examples that have a reference and divided by the
/// batch size (batchmean), with the gradient flowing only through the current logits z.
/// </summary>
public static class TrajectoryLoss
{
    /// <summary>Checks λ (finite, ≥ 0) and τ (finite, > 0) for <paramref name="method"/> (SAF, MESA), naming it in the error.</summary>
    public static void CheckOptions(string method, double lambda, double tau)
    {
        if (!(lambda >= 0) || double.IsInfinity(lambda)) throw new BasinException($"{method} λ must be a finite " +
            $"number ≥ 0, got {lambda}");
        if (!(tau > 0) || double.IsInfinity(tau)) throw new BasinException($"{method} τ must be a finite number > 0, got {tau}");
    }

    /// <param name="logits">z, [B, C], in the graph.</param>
    /// <param name="reference">z_ref, [B, C] (any graph is cut).</param>
    /// <param name="valid">Which rows have a reference, [B] bool; null: all.</param>
    public static Tensor Compute(Tensor logits, Tensor reference, double lambda, double tau, Tensor? valid = null)
    {
        using var scope = NewDisposeScope();
        using var t = tau.ToScalar();
        using var batch = logits.shape[0].ToScalar();
        using var weight = (lambda * tau * tau).ToScalar();
        var target = nn.functional.softmax(reference.detach().div(t), 1);
        var logTarget = nn.functional.log_softmax(reference.detach().div(t), 1);
        var logCurrent = nn.functional.log_softmax(logits.div(t), 1);
        var perExample = target.mul(logTarget.sub(logCurrent)).sum(1);   // KL per example
        if (valid is not null) perExample = perExample.mul(valid.to_type(perExample.dtype));
        return perExample.sum().div(batch).mul(weight).MoveToOuterDisposeScope();
    }
}
