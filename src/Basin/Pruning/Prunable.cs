using Basin.Models;
using Basin.Training;

namespace Basin.Pruning;

/// <summary>
/// The parameters weight pruning acts on by default: the weights of convolutional and linear layers (every trainable
/// parameter with two or more dimensions), the output layer included; biases and BatchNorm's scales are left dense.
/// </summary>
public static class Prunable
{
    public static NamedParameter[] Weights(Classifier model, bool includeHead = true)
    {
        var head = model.HeadName + ".weight";
        var weights = NamedParameter.Of(model).Where(p => p.Value.dim() >= 2 && (includeHead || p.Name != head)).ToArray();
        if (weights.Length == 0)
            throw new BasinException($"model '{model.Spec}' has no prunable layer (no convolutional or linear " +
                $"weights{(includeHead ? "" : " besides the head")})");
        return weights;
    }

    /// <summary>A dense mask over <see cref="Weights"/>.</summary>
    public static PruningMask DenseMask(Classifier model, bool includeHead = true) => PruningMask.Dense(Weights(model, includeHead));
}
