using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// An update rule that keeps a <see cref="PruningMask"/> applied: around every update of the <see cref="Inner"/> rule
/// (SGD, Adam, SGLD, any other) it zeroes the gradient of pruned entries before the update, so momentum buffers and
/// moments of pruned weights stay 0, and zeroes the pruned weights after it, so noise or decoupled terms cannot revive
/// them. Binding applies the mask to the weights once, so training starts from θ ⊙ m.
///
/// The mask travels with the updater's state ("pruning_mask.NAME" beside the inner rule's entries), so a checkpoint holds
/// it and a resumed run continues with the checkpoint's mask, bit for bit. A gradient procedure that perturbs weights
/// before its gradient (SAM) sees perturbed pruned weights during that one evaluation; the step itself never moves them.
/// SGLD's sample callback runs inside the inner update, before the weights are masked again.
/// </summary>
public sealed record MaskedUpdate(IUpdateRule Inner, PruningMask Mask) : IUpdateRule
{
    public const string StatePrefix = "pruning_mask.";

    public string Name => $"{Inner.Name} masked";

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters)
    {
        Mask.CheckFits(parameters);
        var inner = Inner.Bind(parameters);
        try { return new Updater(inner, parameters.ToArray(), Mask); }
        catch
        {
            inner.Dispose();
            throw;
        }
    }

    sealed class Updater : IUpdater
    {
        readonly IUpdater _inner;
        readonly NamedParameter[] _parameters;
        // Per parameter: its keep-tensor in the parameter's dtype and device, or null when the mask does not cover it.
        readonly Tensor?[] _keep;

        public Updater(IUpdater inner, NamedParameter[] parameters, PruningMask mask)
        {
            _inner = inner;
            _parameters = parameters;
            _keep = new Tensor?[parameters.Length];
            using var _ = no_grad();
            for (int i = 0; i < parameters.Length; i++)
                if (mask.Covers(parameters[i].Name))
                    _keep[i] = mask.Keep(parameters[i].Name).to(parameters[i].Value.dtype,
                        parameters[i].Value.device).clone().DetachFromDisposeScope();
            ApplyToWeights();
        }

        public void Apply(double learningRate)
        {
            using (no_grad())
            {
                for (int i = 0; i < _parameters.Length; i++)
                {
                    if (_keep[i] is not { } keep) continue;
                    using var g = _parameters[i].Value.grad;
                    g?.mul_(keep);
                }
            }
            _inner.Apply(learningRate);
            ApplyToWeights();
        }

        void ApplyToWeights()
        {
            using var _ = no_grad();
            for (int i = 0; i < _parameters.Length; i++)
                if (_keep[i] is { } keep) _parameters[i].Value.mul_(keep);
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            foreach (var entry in _inner.State()) yield return entry;
            for (int i = 0; i < _parameters.Length; i++)
                if (_keep[i] is { } keep) yield return new(StatePrefix + _parameters[i].Name, keep);
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            var inner = new Dictionary<string, Tensor>();
            var masks = new Dictionary<string, Tensor>();
            foreach (var (key, t) in state)
                if (key.StartsWith(StatePrefix, StringComparison.Ordinal)) masks[key[StatePrefix.Length..]] = t;
                else inner[key] = t;
            // An empty state means "start afresh": the mask given at binding stays.
            if (state.Count > 0)
            {
                var covered = new HashSet<string>();
                for (int i = 0; i < _parameters.Length; i++)
                    if (_keep[i] is not null) covered.Add(_parameters[i].Name);
                if (!covered.SetEquals(masks.Keys))
                    throw new BasinException($"the checkpoint's pruning mask covers [{string.Join(", ", masks.Keys.Order())}], this " +
                        $"run's covers [{string.Join(", ", covered.Order())}]");
                var loaded = new Tensor[_parameters.Length];
                using (no_grad())
                {
                    for (int i = 0; i < _parameters.Length; i++)
                    {
                        if (_keep[i] is not { } keep) continue;
                        var t = masks[_parameters[i].Name];
                        if (!t.shape.SequenceEqual(keep.shape) || t.dtype != keep.dtype)
                            throw new BasinException($"the checkpoint's pruning mask of '{_parameters[i].Name}' is {t.dtype} " +
                                $"[{string.Join(",", t.shape)}], the parameter {keep.dtype} [{string.Join(",", keep.shape)}]");
                        loaded[i] = t.to(keep.device).clone().DetachFromDisposeScope();
                    }
                }
                _inner.LoadState(inner);
                for (int i = 0; i < _parameters.Length; i++)
                {
                    if (loaded[i] is null) continue;
                    _keep[i]!.Dispose();
                    _keep[i] = loaded[i];
                }
                return;
            }
            _inner.LoadState(inner);
        }

        public void Dispose()
        {
            _inner.Dispose();
            foreach (var k in _keep) k?.Dispose();
        }
    }
}
