using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// The entries a mask covers, flattened in the mask's parameter order (the "flat index" that breaks ties), with which
/// are alive. Pruners score these entries and remove some; <see cref="Without"/> gives the new mask.
/// </summary>
internal sealed class MaskedEntries
{
    readonly PruningMask _mask;

    public MaskedEntries(PruningMask mask)
    {
        _mask = mask;
        var names = mask.Names;
        Offsets = new long[names.Count + 1];
        for (int i = 0; i < names.Count; i++) Offsets[i + 1] = Offsets[i] + mask.Keep(names[i]).numel();
        Alive = new bool[checked((int)Offsets[^1])];
        for (int i = 0; i < names.Count; i++)
        {
            using var flat = mask.Keep(names[i]).flatten();
            var keep = flat.data<float>().ToArray();
            for (int j = 0; j < keep.Length; j++) Alive[Offsets[i] + j] = keep[j] != 0;
        }
    }

    public IReadOnlyList<string> Names => _mask.Names;
    /// <summary>Offsets[i] is the flat index of parameter i's first entry; the last one is the count.</summary>
    public long[] Offsets { get; }
    public bool[] Alive { get; }
    public int Count => Alive.Length;
    public long AliveCount => Alive.LongCount(a => a);

    public (int Start, int End) Range(int layer) => ((int)Offsets[layer], (int)Offsets[layer + 1]);

    /// <summary>The values of the named tensors (one per masked parameter, same shapes), flattened in mask order, as doubles.</summary>
    public double[] Gather(IReadOnlyDictionary<string, Tensor> values)
    {
        var flat = new double[Count];
        for (int i = 0; i < Names.Count; i++)
        {
            if (!values.TryGetValue(Names[i], out var t)) throw new BasinException($"no values for the masked parameter '{Names[i]}'");
            if (t.numel() != Offsets[i + 1] - Offsets[i])
                throw new BasinException($"'{Names[i]}' has {t.numel()} values, its mask {Offsets[i + 1] - Offsets[i]}");
            using var d = t.detach().to(ScalarType.Float64, CPU).flatten();
            d.data<double>().CopyTo(flat, (int)Offsets[i]);
        }
        return flat;
    }

    public double[] Gather(IEnumerable<NamedParameter> parameters) =>
        Gather(parameters.Where(p => _mask.Covers(p.Name)).ToDictionary(p => p.Name, p => p.Value));

    /// <summary>The mask with the given flat entries pruned as well.</summary>
    public PruningMask Without(IEnumerable<int> removed)
    {
        var alive = (bool[])Alive.Clone();
        foreach (var i in removed)
        {
            if (!alive[i]) throw new InvalidOperationException($"entry {i} is already pruned");
            alive[i] = false;
        }
        using var scope = NewDisposeScope();
        var keep = new Dictionary<string, Tensor>();
        for (int l = 0; l < Names.Count; l++)
        {
            var (start, end) = Range(l);
            var values = new float[end - start];
            for (int j = start; j < end; j++) values[j - start] = alive[j] ? 1f : 0f;
            keep[Names[l]] = tensor(values).reshape(_mask.Keep(Names[l]).shape);
        }
        return _mask.With(keep);
    }
}

/// <summary>Deterministic selection: the k smallest scores among the eligible entries, ties broken by the lower flat index.</summary>
internal static class Ranking
{
    public static int[] Smallest(double[] scores, Func<int, bool> eligible, long k, int start = 0, int end = -1)
    {
        if (end < 0) end = scores.Length;
        var candidates = new List<int>();
        for (int i = start; i < end; i++)
            if (eligible(i)) candidates.Add(i);
        if (k > candidates.Count) throw new InvalidOperationException($"asked for {k} of {candidates.Count} candidates");
        var order = candidates.ToArray();
        Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[a].CompareTo(scores[b]) : a.CompareTo(b));
        return order[..(int)k];
    }

    /// <summary>⌊fraction · n⌋ computed in decimal, so 0.2·10 is 2 and not 1.9999….</summary>
    public static long Floor(double fraction, long n) => (long)Math.Floor((decimal)fraction * n);

    /// <summary>⌊(percent / 100) · n⌋ in decimal arithmetic.</summary>
    public static long FloorPercent(double percent, long n) => (long)Math.Floor((decimal)percent * n / 100m);
}
