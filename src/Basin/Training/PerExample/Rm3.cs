using System.Text.Json;
using Basin.Training.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// RM3 (Chatterjee &amp; Zielinski 2022): the step uses the coordinate-wise median of the current mini-batch
/// gradient and the previous two (raw) mini-batch gradients. Until two earlier gradients exist, the plain
/// gradient is used. The two earlier gradients are the procedure's checkpointed state.
/// </summary>
public sealed class Rm3 : IGradientProcedure, IStatefulStage
{
    readonly Dictionary<string, Tensor>[] _previous = [[], []];   // [0]: one step back, [1]: two steps back
    int _count;

    public string Name => "rm3";

    public ObjectiveValue ComputeGradients(GradientContext context)
    {
        var value = new Backpropagation().ComputeGradients(context);
        var parameters = context.Parameters;
        using var _ = no_grad();
        var current = new Dictionary<string, Tensor>();
        foreach (var p in parameters)
        {
            var g = p.Value.grad;
            current[p.Name] = (g is null ? zeros_like(p.Value) : g.detach().clone()).DetachFromDisposeScope();
        }
        if (_count >= 2)
        {
            foreach (var p in parameters)
            {
                if (!_previous[0].TryGetValue(p.Name, out var a) || !_previous[1].TryGetValue(p.Name, out var b)
                    || !a.shape.SequenceEqual(p.Value.shape) || !b.shape.SequenceEqual(p.Value.shape))
                    throw new BasinException($"RM3's earlier gradients do not fit parameter '{p.Name}'");
                p.Value.grad = Median3.Of(current[p.Name], a, b);
            }
        }
        foreach (var t in _previous[1].Values) t.Dispose();
        _previous[1] = _previous[0];
        _previous[0] = current;
        _count = Math.Min(_count + 1, 2);
        return value;
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        for (int k = 0; k < _count; k++)
            foreach (var (name, t) in _previous[k]) yield return new($"previous{k}.{name}", t);
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var loaded = new Dictionary<string, Tensor>[] { [], [] };
        using (no_grad())
        {
            foreach (var (key, t) in state)
            {
                int k = key.StartsWith("previous0.", StringComparison.Ordinal) ? 0
                    : key.StartsWith("previous1.", StringComparison.Ordinal) ? 1
                    : throw new BasinException($"RM3 state has an unknown entry '{key}'");
                loaded[k][key["previous0.".Length..]] = t.clone().DetachFromDisposeScope();
            }
        }
        if (loaded[0].Count == 0 && loaded[1].Count > 0) throw new BasinException("RM3 state has a gradient two steps back " +
            "but none one step back");
        foreach (var d in _previous) foreach (var t in d.Values) t.Dispose();
        _previous[0] = loaded[0];
        _previous[1] = loaded[1];
        _count = loaded[1].Count > 0 ? 2 : loaded[0].Count > 0 ? 1 : 0;
    }
}

/// <summary>RM3 in the method catalog (no settings).</summary>
sealed class Rm3Entry : MethodEntry
{
    public override int Order => 90;
    public override string Name => "rm3";
    public override MethodStage Stage => MethodStage.GradientProcedure;
    public override string Summary => "M3 over this batch and the two before it (Chatterjee 2020)";

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values,
        MethodContext context) => recipe.With(new Rm3());
}
