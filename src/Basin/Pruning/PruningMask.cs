using Basin.IO;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// Which entries of which parameters are pruned: one keep-tensor per masked parameter (float32 on the CPU, 1 = alive,
/// 0 = pruned, the parameter's shape). Parameters the mask does not name are left alone. A mask is immutable: pruners
/// return a new one (<see cref="With(IReadOnlyDictionary{string, Tensor})"/>). <see cref="MaskedUpdate"/> keeps it applied during training.
/// </summary>
public sealed class PruningMask : IDisposable
{
    readonly string[] _names;
    readonly Dictionary<string, Tensor> _keep;

    PruningMask(IEnumerable<KeyValuePair<string, Tensor>> keep)
    {
        _keep = new Dictionary<string, Tensor>();
        var names = new List<string>();
        foreach (var (name, t) in keep)
        {
            if (!_keep.TryAdd(name, t)) throw new BasinException($"the mask names '{name}' twice");
            names.Add(name);
        }
        _names = names.ToArray();
    }

    /// <summary>The masked parameters, in the order given.</summary>
    public IReadOnlyList<string> Names => _names;

    public bool Covers(string name) => _keep.ContainsKey(name);

    /// <summary>The keep-tensor of a masked parameter (owned by the mask: do not dispose).</summary>
    public Tensor Keep(string name) =>
        _keep.TryGetValue(name, out var t) ? t : throw new BasinException($"the mask does not cover '{name}'");

    /// <summary>A mask that keeps every entry of <paramref name="parameters"/>.</summary>
    public static PruningMask Dense(IEnumerable<NamedParameter> parameters) =>
        new(parameters.Select(p => new KeyValuePair<string, Tensor>(p.Name, Ones(p.Value.shape))).ToArray());

    /// <summary>A mask from keep-tensors (copied); every entry must be exactly 0 or 1.</summary>
    public static PruningMask From(IEnumerable<KeyValuePair<string, Tensor>> keep)
    {
        var copies = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var (name, t) in keep) copies.Add(new(name, Checked(name, t)));
            return new PruningMask(copies);
        }
        catch
        {
            foreach (var (_, t) in copies) t.Dispose();
            throw;
        }
    }

    /// <summary>This mask with the keep-tensor of <paramref name="name"/> (a covered parameter) replaced by a copy of
    /// <paramref name="keep"/>.</summary>
    public PruningMask With(string name, Tensor keep) => With(new Dictionary<string, Tensor> { [name] = keep });

    /// <summary>This mask with some keep-tensors replaced (copied; same shapes).</summary>
    public PruningMask With(IReadOnlyDictionary<string, Tensor> replaced)
    {
        foreach (var (name, t) in replaced)
        {
            var old = Keep(name);
            if (!t.shape.SequenceEqual(old.shape))
                throw new BasinException($"the new mask of '{name}' has shape [{string.Join(",", t.shape)}], the parameter " +
                    $"[{string.Join(",", old.shape)}]");
        }
        return From(_names.Select(n => new KeyValuePair<string, Tensor>(n, replaced.TryGetValue(n, out var r) ? r : _keep[n])));
    }

    public PruningMask Clone() => From(_names.Select(n => new KeyValuePair<string, Tensor>(n, _keep[n])));

    /// <summary>Checks that every masked parameter exists among <paramref name="parameters"/> with the mask's shape.</summary>
    public void CheckFits(IReadOnlyList<NamedParameter> parameters)
    {
        var byName = parameters.ToDictionary(p => p.Name, p => p.Value);
        foreach (var name in _names)
        {
            if (!byName.TryGetValue(name, out var p)) throw new BasinException($"the mask covers '{name}', which the model does not " +
                "have (or does not train)");
            if (!p.shape.SequenceEqual(_keep[name].shape))
                throw new BasinException($"the mask of '{name}' has shape [{string.Join(",", _keep[name].shape)}] but the parameter has " +
                    $"[{string.Join(",", p.shape)}]");
        }
    }

    /// <summary>Sets the pruned entries of the masked parameters to exactly 0 (in place, without autograd).</summary>
    public void ApplyTo(IReadOnlyList<NamedParameter> parameters)
    {
        CheckFits(parameters);
        using var _ = no_grad();
        foreach (var p in parameters)
            if (_keep.TryGetValue(p.Name, out var keep))
            {
                using var k = keep.to(p.Value.dtype, p.Value.device);
                p.Value.mul_(k);
            }
    }

    public void ApplyTo(nn.Module model) => ApplyTo(NamedParameter.Of(model));

    /// <summary>Pruned and total entries per masked parameter, and globally.</summary>
    public SparsityReport Sparsity() => new(_names.Select(n =>
    {
        var k = _keep[n];
        using var alive = k.sum();
        long total = k.numel();
        return new LayerSparsity(n, total, total - (long)Math.Round(alive.ToDouble()));
    }).ToArray());

    /// <summary>True when <paramref name="other"/> masks the same parameters, in the same order, with equal keep-tensors.</summary>
    public bool SameAs(PruningMask other) =>
        _names.SequenceEqual(other._names) && _names.All(n => _keep[n].shape.SequenceEqual(other._keep[n].shape) &&
            Same(_keep[n], other._keep[n]));

    static bool Same(Tensor a, Tensor b)
    {
        using var equal = a.eq(b);
        using var all = equal.all();
        return all.item<bool>();
    }

    /// <summary>Writes the keep-tensors to a safetensors file (names as the parameters').</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, _names.Select(n => new KeyValuePair<string, Tensor>(n, _keep[n])), metadata, checksum: true);

    /// <summary>Reads a mask written by <see cref="Save"/>.</summary>
    public static PruningMask Load(string path)
    {
        using var file = SafeTensors.Load(path);
        return From(file.Tensors);
    }

    public void Dispose()
    {
        foreach (var t in _keep.Values) t.Dispose();
    }

    static Tensor Ones(long[] shape) => ones(shape, ScalarType.Float32).DetachFromDisposeScope();

    static Tensor Checked(string name, Tensor t)
    {
        using var scope = NewDisposeScope();
        var copy = t.detach().to(ScalarType.Float32, CPU).clone();
        using var zeroValue = 0.ToScalar();
        using var zero = copy.eq(zeroValue);
        using var one = copy.eq(Basin.Native.Scalars.One);
        using var binary = zero.logical_or(one).all();
        if (!binary.item<bool>()) throw new BasinException($"the mask of '{name}' has entries other than 0 and 1");
        return copy.DetachFromDisposeScope();
    }
}
