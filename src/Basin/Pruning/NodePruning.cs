using Basin.Data;
using Basin.Models;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// A layer of hidden units (neurons, or convolutional channels) that node pruning can remove: unit j owns row (filter)
/// j of <see cref="Weight"/> and entry j of <see cref="Bias"/>, and the next layer reads it through columns
/// [j·<see cref="NextSlice"/>, (j+1)·<see cref="NextSlice"/>) of <see cref="Next"/> (dimension 1).
/// </summary>
public sealed record UnitLayer(string Layer, string Weight, string Bias, string Next, int Units, int NextSlice);

/// <summary>How many of a layer's units node pruning kept.</summary>
public sealed record UnitsKept(string Layer, int Units, int Kept);

/// <summary>How many units node pruning kept per layer, and the sparsities that follow.</summary>
public sealed record NodeSparsity(IReadOnlyList<UnitsKept> Layers, double ParameterSparsity)
{
    /// <summary>Removed units over all hidden units.</summary>
    public double Global => 1 - (double)Layers.Sum(l => l.Kept) / Layers.Sum(l => l.Units);
}

/// <summary>
/// Node (structured) pruning: whole hidden units or channels are removed by zeroing their incoming weights, their bias
/// and the next layer's weights that read them, so the pruned network computes exactly what the narrower network
/// without those units computes, for any activation. At node sparsity s each hidden layer keeps
/// k_l = max(1, round((1 − s)·n_l)) units (rounding half away from zero); the input and output layers are never pruned.
/// Which units stay: the k_l of largest L2 norm of incoming weights (ties: the lower index stays), or k_l chosen
/// uniformly at random from a seed ("Random Search as a Baseline for Sparse Neural Network Architecture Search").
/// </summary>
public static class NodePruning
{
    /// <summary>The hidden-unit layers of an MLP or LeNet-5; other models have none Basin knows how to remove.</summary>
    public static IReadOnlyList<UnitLayer> Layout(Classifier model) => model switch
    {
        Mlp mlp => mlp.HiddenWidths.Select((w, i) => new UnitLayer($"fc{i + 1}", $"fc{i + 1}.weight", $"fc{i + 1}.bias",
            $"fc{i + 2}.weight", w, 1)).ToArray(),
        LeNet5 =>
        [
            new("conv1", "conv1.weight", "conv1.bias", "conv2.weight", 6, 1),
            new("conv2", "conv2.weight", "conv2.bias", "fc1.weight", 16, 25),
            new("fc1", "fc1.weight", "fc1.bias", "fc2.weight", 120, 1),
            new("fc2", "fc2.weight", "fc2.bias", "fc3.weight", LeNet5.FeatureCount, 1),
        ],
        _ => throw new BasinException($"model '{model.Spec}' has no prunable layer for node pruning (it knows the hidden units of " +
            "mlp and lenet5 models)"),
    };

    /// <summary>Units kept in a layer of n units at node sparsity s.</summary>
    public static int Kept(int units, double sparsity) =>
        Math.Max(1, (int)Math.Round((1 - (decimal)sparsity) * units, MidpointRounding.AwayFromZero));

    /// <summary>
    /// A mask over every weight and bias the layout touches that removes units to node sparsity <paramref name="sparsity"/>;
    /// by incoming-weight norm, or at random when <paramref name="randomSeed"/> is given.
    /// </summary>
    public static (PruningMask Mask, NodeSparsity Sparsity) ToSparsity(Classifier model, double sparsity, long? randomSeed = null)
    {
        Check.Fraction(sparsity, "sparsity");
        var layout = Layout(model);
        var parameters = NamedParameter.Of(model).ToDictionary(p => p.Name, p => p.Value);
        var covered = layout.SelectMany(l => new[] { l.Weight, l.Bias, l.Next }).Distinct().ToArray();
        foreach (var name in covered)
            if (!parameters.ContainsKey(name)) throw new BasinException($"model '{model.Spec}' has no parameter '{name}' for node pruning");
        var random = randomSeed is { } seed ? SeededRandom.Create(seed) : null;

        using var scope = NewDisposeScope();
        var keep = covered.ToDictionary(n => n, n => ones(parameters[n].shape, ScalarType.Float32));
        var kept = new List<UnitsKept>();
        foreach (var layer in layout)
        {
            int k = Kept(layer.Units, sparsity);
            var stay = random is not null
                ? random.ChooseIndices(layer.Units, k).Select(i => (int)i).ToArray() : LargestNorms(parameters[layer.Weight], k);
            var stays = new HashSet<int>(stay);
            for (int j = 0; j < layer.Units; j++)
            {
                if (stays.Contains(j)) continue;
                keep[layer.Weight][j].zero_();
                keep[layer.Bias][j].zero_();
                keep[layer.Next].narrow(1, (long)j * layer.NextSlice, layer.NextSlice).zero_();
            }
            kept.Add(new UnitsKept(layer.Layer, layer.Units, k));
        }
        using var dense = PruningMask.Dense(covered.Select(n => new NamedParameter(n, parameters[n])));
        var mask = dense.With(keep);
        var weights = mask.Sparsity().Layers.Where(l => !l.Name.EndsWith(".bias", StringComparison.Ordinal)).ToArray();
        return (mask, new NodeSparsity(kept, (double)weights.Sum(l => l.Pruned) / weights.Sum(l => l.Total)));
    }

    /// <summary>The k units of largest incoming-weight L2 norm, ties broken towards the lower index.</summary>
    static int[] LargestNorms(Tensor weight, int k)
    {
        using var w = weight.detach().flatten(1).to(ScalarType.Float64);
        using var squared = w.pow(Basin.Native.Scalars.Two);
        using var norms = squared.sum(dim: 1);
        var values = norms.data<double>().ToArray();
        var negative = values.Select(v => -v).ToArray();
        return Ranking.Smallest(negative, _ => true, k);
    }
}
