using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>A copy of a model's state_dict (parameters and buffers): a rewind point, or the weights at a round's start.</summary>
public sealed class WeightSnapshot : IDisposable
{
    readonly Dictionary<string, Tensor> _state;

    WeightSnapshot(Dictionary<string, Tensor> state) => _state = state;

    public static WeightSnapshot Of(nn.Module model)
    {
        using var _ = no_grad();
        return new(model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope()));
    }

    public IReadOnlyDictionary<string, Tensor> State => _state;

    /// <summary>Copies the snapshot into <paramref name="model"/> (same names and shapes), then applies <paramref name="mask"/> when given.</summary>
    public void CopyInto(nn.Module model, PruningMask? mask = null)
    {
        var target = model.state_dict();
        if (!target.Keys.ToHashSet().SetEquals(_state.Keys))
            throw new BasinException("the snapshot was taken of another model (its state names differ)");
        using (no_grad())
        {
            foreach (var (name, t) in target)
            {
                if (!t.shape.SequenceEqual(_state[name].shape)) throw new BasinException($"the snapshot's '{name}' has another shape than the model's");
                t.copy_(_state[name]);
            }
        }
        mask?.ApplyTo(model);
    }

    public void Dispose()
    {
        foreach (var t in _state.Values) t.Dispose();
    }
}
