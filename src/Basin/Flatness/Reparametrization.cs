using Basin.Curvature;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>
/// A rescaling applied between two consecutive layers: the outputs of <see cref="PreviousLayer"/> (weight rows and
/// bias) were multiplied by <see cref="Factors"/> (one per unit; all equal for a layer-wise rescaling) and the
/// matching inputs of <see cref="Layer"/> divided by them.
/// </summary>
public sealed record Rescaling(string PreviousLayer, string Layer, IReadOnlyList<double> Factors);

/// <summary>
/// Function-preserving rescalings of ReLU networks ("Relative Flatness and Generalization", docs/definitions.md §1d):
/// ReLU and max-pooling are positively homogeneous, so multiplying a unit's incoming weights and bias by a > 0 and
/// its outgoing weights by 1/a leaves the network function unchanged, while plain Hessian measures of the next
/// layer change. Supported: ReLU MLPs (fc1 → fc2 → …) and LeNet-5 (conv1 → conv2 by channel, conv2 → fc1 by
/// channel's 5×5 block of flattened inputs, fc1 → fc2 → fc3). Rescalings act in place; use <see cref="Copy"/> first
/// to keep the original.
/// </summary>
public static class Reparametrization
{
    /// <summary>A new model of the same architecture, dtype and weights.</summary>
    public static Classifier Copy(Classifier model) => TryCopy(model)
        ?? throw new BasinException($"{model.Spec} cannot be copied: Basin supports mlp and lenet5 models, and custom models that "
            + "override Classifier.NewOfSameArchitecture");

    /// <summary>As <see cref="Copy"/>, or null when the model cannot make a new one of its architecture.</summary>
    public static Classifier? TryCopy(Classifier model)
    {
        if (model.NewOfSameArchitecture() is not { } copy) return null;
        var source = model.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        copy.to(source.Values.First().dtype);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in copy.named_parameters()) p.copy_(source[name]);
        if (!model.training) copy.eval();
        return copy;
    }

    /// <summary>Layer-wise: multiplies the layer before <paramref name="layer"/> (weight and bias) by <paramref name="factor"/> and
    /// <paramref name="layer"/>'s weight by 1/factor.</summary>
    public static Rescaling ScaleLayer(Classifier model, string layer, double factor)
    {
        var (previous, next, group) = Pair(model, layer);
        return Apply(previous, next, group, Enumerable.Repeat(factor, (int)previous.Weight.shape[0]).ToArray());
    }

    /// <summary>Neuron-wise: one factor per output unit (channel) of the layer before <paramref name="layer"/>.</summary>
    public static Rescaling ScaleNeurons(Classifier model, string layer, IReadOnlyList<double> factors)
    {
        var (previous, next, group) = Pair(model, layer);
        if (factors.Count != previous.Weight.shape[0])
            throw new BasinException($"layer '{previous.Name}' has {previous.Weight.shape[0]} units, got {factors.Count} factors");
        return Apply(previous, next, group, factors);
    }

    /// <summary>
    /// Random rescalings between every pair of consecutive layers: factors log-uniform in
    /// [1/<paramref name="maxFactor"/>, <paramref name="maxFactor"/>], one per layer or one per unit.
    /// </summary>
    public static IReadOnlyList<Rescaling> Random(Classifier model, long seed, bool neuronWise = false, double maxFactor = 4)
    {
        if (!(maxFactor >= 1) || double.IsInfinity(maxFactor)) throw new BasinException("the largest rescaling factor must be a finite " +
            $"number ≥ 1, got {maxFactor}");
        var random = new Random(unchecked((int)seed));
        double Draw() => Math.Exp((2 * random.NextDouble() - 1) * Math.Log(maxFactor));
        var chain = Chain(model);
        var result = new List<Rescaling>();
        for (int i = 1; i < chain.Count; i++)
        {
            int units = (int)chain[i - 1].Weight.shape[0];
            double shared = Draw();
            var factors = Enumerable.Range(0, units).Select(_ => neuronWise ? Draw() : shared).ToArray();
            result.Add(Apply(chain[i - 1], chain[i], chain[i].Columns / units, factors));
        }
        return result;
    }

    static Rescaling Apply(FlatLayer previous, FlatLayer next, long group, IReadOnlyList<double> factors)
    {
        if (factors.Any(a => !(a > 0) || double.IsInfinity(a)))
            throw new BasinException("rescaling factors must be finite and positive, got " +
                $"{string.Join(", ", factors.Where(a => !(a > 0) || double.IsInfinity(a)))}");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(factors.ToArray(), ScalarType.Float64).to_type(previous.Weight.dtype);
        var rows = previous.Weight.dim() == 4 ? a.reshape(-1, 1, 1, 1) : a.reshape(-1, 1);
        previous.Weight.mul_(rows);
        previous.Bias?.mul_(a);
        // A conv layer's input channel c is weight dim 1; a linear layer after flattening sees each channel as `group` consecutive inputs.
        var columns = next.Weight.dim() == 4 ? a.reshape(1, -1, 1, 1) : a.repeat_interleave(group).reshape(1, -1);
        next.Weight.div_(columns);
        return new Rescaling(previous.Name, next.Name, factors.ToArray());
    }

    static (FlatLayer previous, FlatLayer next, long group) Pair(Classifier model, string layer)
    {
        var chain = Chain(model);
        int i = chain.ToList().FindIndex(l => l.Name == layer);
        if (i < 0) throw new BasinException($"unknown layer '{layer}'; layers: {string.Join(", ", chain.Select(l => l.Name))}");
        if (i == 0) throw new BasinException($"layer '{layer}' is the first layer; rescaling needs a layer before it");
        return (chain[i - 1], chain[i], chain[i].Columns / chain[i - 1].Weight.shape[0]);
    }

    /// <summary>The weight layers in order, where each layer's inputs are the previous layer's ReLU'd (and pooled) outputs.</summary>
    static IReadOnlyList<FlatLayer> Chain(Classifier model)
    {
        string[] names = model switch
        {
            Mlp { Activation: Activation.Relu } mlp => Enumerable.Range(1, mlp.HiddenWidths.Count + 1).Select(i => $"fc{i}").ToArray(),
            Mlp mlp => throw new BasinException($"rescaling preserves the function only for ReLU networks; {mlp.Spec} uses " +
                $"{mlp.Activation.ToString().ToLowerInvariant()}"),
            LeNet5 => ["conv1", "conv2", "fc1", "fc2", "fc3"],
            _ => throw new BasinException($"rescaling supports mlp (relu) and lenet5 models, not {model.Spec}"),
        };
        return names.Select(n => FlatLayer.Resolve(model, n)).ToArray();
    }
}
