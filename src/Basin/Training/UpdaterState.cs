using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>Helpers for the per-parameter state tensors of updaters.</summary>
internal static class UpdaterState
{
    /// <summary>A copy of <paramref name="source"/> that lives until disposed explicitly (outside any dispose scope).</summary>
    public static Tensor Keep(Tensor source)
    {
        using var _ = no_grad();
        return source.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>Checks a loaded state tensor against the parameter it belongs to and returns a kept copy.</summary>
    public static Tensor Fitting(IReadOnlyDictionary<string, Tensor> state, string key, Tensor like, string rule)
    {
        if (!state.TryGetValue(key, out var t)) throw new BasinException($"{rule} state has no '{key}'");
        if (!t.shape.SequenceEqual(like.shape))
            throw new BasinException($"{rule} state '{key}' has shape [{string.Join(",", t.shape)}] but the parameter has " +
                $"[{string.Join(",", like.shape)}]");
        if (t.dtype != like.dtype) throw new BasinException($"{rule} state '{key}' is {t.dtype} but the parameter is {like.dtype}");
        using var _ = no_grad();
        return t.to(like.device).clone().DetachFromDisposeScope();
    }

    public static void RejectUnknown(IReadOnlyDictionary<string, Tensor> state, ISet<string> known, string rule)
    {
        foreach (var key in state.Keys)
            if (!known.Contains(key)) throw new BasinException($"{rule} state has an entry '{key}' that no parameter of this model owns");
    }
}
