using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// Copies of weights to put back (<see cref="Restore"/>, into the tensors the model holds then, in the same order) after
/// changing them in place, or to copy into a model by name (<see cref="CopyInto"/>): the one save/restore of weights.
/// </summary>
public sealed class WeightSnapshot : IDisposable
{
    readonly Func<IEnumerable<Tensor>> targets;
    readonly Tensor[] saved;
    readonly Dictionary<string, Tensor>? state;

    WeightSnapshot(Func<IEnumerable<Tensor>> targets, IReadOnlyList<string>? names = null)
    {
        this.targets = targets;
        using var noGrad = no_grad();
        // The snapshot owns its copies (Dispose frees them), so they belong to no dispose scope of the caller's.
        saved = targets().Select(t => t.detach().clone().DetachFromDisposeScope()).ToArray();
        if (names is not null) state = names.Zip(saved).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>Every parameter of <paramref name="model"/>, in <c>parameters()</c> order.</summary>
    public static WeightSnapshot OfParameters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new WeightSnapshot(() => model.parameters());
    }

    /// <summary>The model's whole state (parameters and buffers), in <c>state_dict()</c> order and by name.</summary>
    public static WeightSnapshot OfState(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new WeightSnapshot(() => model.state_dict().Values, model.state_dict().Keys.ToArray());
    }

    /// <summary>The given tensors (e.g. the parameters that require gradients, or one layer's weight).</summary>
    public static WeightSnapshot Of(IReadOnlyList<Tensor> tensors) => new(() => tensors);

    /// <summary>The saved values, in the snapshot's order (owned by the snapshot).</summary>
    public IReadOnlyList<Tensor> Values => saved;

    /// <summary>The saved state by name (a snapshot <see cref="OfState"/> only).</summary>
    public IReadOnlyDictionary<string, Tensor> State =>
        state ?? throw new BasinException("only a snapshot of a model's whole state has names");

    /// <summary>Copies the saved values back into the weights they were taken from.</summary>
    public void Restore()
    {
        using var noGrad = no_grad();
        int i = 0;
        foreach (var t in targets())
        {
            if (i >= saved.Length) throw new BasinException($"the model now has more than the {saved.Length} weights of its snapshot");
            t.copy_(saved[i++]);
        }
        if (i != saved.Length) throw new BasinException($"the model now has {i} weights but its snapshot {saved.Length}");
    }

    /// <summary>Copies a snapshot <see cref="OfState"/> into <paramref name="model"/> by name (same names and shapes).</summary>
    public void CopyInto(nn.Module model)
    {
        var named = State;
        var target = model.state_dict();
        if (!target.Keys.ToHashSet().SetEquals(named.Keys))
            throw new BasinException("the snapshot was taken of another model (its state names differ)");
        using var noGrad = no_grad();
        foreach (var (name, t) in target)
        {
            if (!t.shape.SequenceEqual(named[name].shape)) throw new BasinException($"the snapshot's '{name}' has another " +
                "shape than the model's");
            t.copy_(named[name]);
        }
    }

    public void Dispose()
    {
        foreach (var t in saved) t.Dispose();
    }
}
