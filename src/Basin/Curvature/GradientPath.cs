using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Checks that every parameter of a set reaches the loss, before any call that libtorch would abort on.
/// A loss that does not require gradients is rejected without calling autograd at all; otherwise first-order
/// gradients are taken with allow_unused, which libtorch answers with undefined tensors instead of aborting.
/// </summary>
static class GradientPath
{
    public static void Check(Tensor loss, ParameterSet parameters)
    {
        if (!loss.requires_grad)
            throw new BasinException($"no parameter of [{string.Join(", ", parameters.Names)}] has a gradient path to the loss");
        var grads = torch.autograd.grad([loss], parameters.Parameters.Cast<Tensor>().ToArray(), null, retain_graph: true,
            create_graph: false, allow_unused: true);
        var missing = new List<string>();
        for (int i = 0; i < grads.Count; i++)
        {
            if (grads[i] is null || grads[i].IsInvalid) missing.Add(parameters.Names[i]);
            else grads[i].Dispose();
        }
        if (missing.Count > 0)
            throw new BasinException($"parameters without a gradient path to the loss: {string.Join(", ", missing)}; leave them out " +
                "of the parameter set");
    }

    /// <summary>Replaces undefined gradients (no path) by zeros of the parameter's shape.</summary>
    public static Tensor[] OrZeros(IList<Tensor> grads, ParameterSet parameters) =>
        grads.Select((g, i) => g is null || g.IsInvalid ? torch.zeros_like(parameters.Parameters[i]) : g).ToArray();
}
