using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// One ReLU layer's dead-neuron figures over a data set of N examples: <see cref="DeadPairs"/> of the N·units
/// (example, unit) pairs have pre-activation ≤ 0; <see cref="StaticDead"/> units are ≤ 0 on every example;
/// <see cref="StructurallyDeadChannels"/> units (channels) have all incoming weights exactly 0 and a bias ≤ 0, so
/// pruning alone killed them (each has <see cref="ElementsPerChannel"/> elements: positions of a conv channel).
/// </summary>
public sealed record LayerDeadRate(string Layer, long Units, long ElementsPerChannel, long Examples, long DeadPairs, long StaticDead,
    long StructurallyDeadChannels)
{
    public long Pairs => Examples * Units;
    public double Rate => (double)DeadPairs / Pairs;
    public double StaticFraction => (double)StaticDead / Units;
    /// <summary>Pairs of structurally dead units (all dead: their pre-activation is the bias, ≤ 0).</summary>
    public long StructuralPairs => Examples * StructurallyDeadChannels * ElementsPerChannel;
    /// <summary>The rate over the units that are not structurally dead (NaN when every unit is).</summary>
    public double RateExcludingStructural => Pairs == StructuralPairs
        ? double.NaN : (double)(DeadPairs - StructuralPairs) / (Pairs - StructuralPairs);
}

/// <summary>The dead-neuron rate of a network over a data set: per ReLU layer and overall.</summary>
public sealed record DeadNeuronRate(IReadOnlyList<LayerDeadRate> Layers)
{
    /// <summary>DNR: dead (example, unit) pairs over all pairs, every ReLU element of every layer counted once.</summary>
    public double Overall => (double)Layers.Sum(l => l.DeadPairs) / Layers.Sum(l => l.Pairs);
    public double StaticFraction => (double)Layers.Sum(l => l.StaticDead) / Layers.Sum(l => l.Units);
    public double OverallExcludingStructural
    {
        get
        {
            long pairs = Layers.Sum(l => l.Pairs - l.StructuralPairs);
            return pairs == 0 ? double.NaN : (double)Layers.Sum(l => l.DeadPairs - l.StructuralPairs) / pairs;
        }
    }
}

/// <summary>
/// The dynamic dead-neuron rate of "AP: Selective Activation for De-sparsifying Pruned Neural Networks" as Basin defines
/// it: DNR(θ; D) = (1 / (|D|·|U|)) Σ_x Σ_u 1[z_u(x) ≤ 0], with U every ReLU output element (for convolutions every
/// (channel, position)) and z_u the pre-activation, so a ReLU outputs 0 exactly when z_u ≤ 0. Measured in eval mode
/// without gradients on a fixed data set (the model's train/eval mode is put back); "dynamic" means it is recorded as
/// training goes (per epoch and per round).
/// </summary>
public static class DeadNeurons
{
    public static DeadNeuronRate Measure(Classifier model, LabeledDataset data, int batchSize = 1000)
    {
        if (batchSize < 1) throw new BasinException($"batch size must be at least 1, got {batchSize}");
        if (data.Count < 1) throw new BasinException("the dead-neuron rate needs at least one example");
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            long[]? dead = null;
            Tensor[]? everAlive = null;
            string[] names = [];
            long[] perChannel = [];
            long[] units = [];
            try
            {
                foreach (var chunk in data.Chunks(batchSize))
                {
                    using var scope = NewDisposeScope();
                    var (layers, _) = ReluProbe.Forward(model, chunk.Inputs());
                    if (dead is null)
                    {
                        dead = new long[layers.Count];
                        everAlive = layers.Select(l => zeros(l.Z.shape[1..], ScalarType.Bool).DetachFromDisposeScope()).ToArray();
                        names = layers.Select(l => l.Layer).ToArray();
                        perChannel = layers.Select(l => l.ElementsPerChannel).ToArray();
                        units = layers.Select(l => l.Z[0].numel()).ToArray();
                    }
                    for (int i = 0; i < layers.Count; i++)
                    {
                        using var zero = torch.zeros(1, dtype: layers[i].Z.dtype);
                        var positive = layers[i].Z.gt(zero);
                        dead[i] += layers[i].Z.numel() - positive.sum().ToInt64();
                        everAlive![i].logical_or_(positive.any(0));
                    }
                }
                var structural = StructurallyDead(model, names);
                return new DeadNeuronRate(names.Select((n, i) =>
                {
                    using var alive = everAlive![i].sum();
                    return new LayerDeadRate(n, units[i], perChannel[i], data.Count, dead![i], units[i] - alive.ToInt64(), structural[i]);
                }).ToArray());
            }
            finally
            {
                foreach (var t in everAlive ?? []) t.Dispose();
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Per layer: units (channels) whose incoming weights are all exactly 0 and whose bias is ≤ 0.</summary>
    static long[] StructurallyDead(Classifier model, string[] layers)
    {
        var state = model.state_dict();
        return layers.Select(layer =>
        {
            using var scope = NewDisposeScope();
            var w = state[layer + ".weight"].flatten(1);
            var b = state[layer + ".bias"];
            using var zero = torch.zeros(1, dtype: w.dtype);
            var silent = w.eq(zero).all(1).logical_and(b.le(zero));
            return silent.sum().ToInt64();
        }).ToArray();
    }
}
