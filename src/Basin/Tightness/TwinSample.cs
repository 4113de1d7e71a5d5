using Basin.Data;

namespace Basin.Tightness;

/// <summary>
/// The twin construction of Gastpar et al.'s impossibility for bounds B(S, h): a finite universe U of n points with
/// i.i.d. uniform labels ℓ over K classes, D uniform on U, and a sample S of m draws from D with replacement.
/// <list type="bullet">
/// <item>Scenario 1: the distribution's labels are f₁ = ℓ and the algorithm trains on all of U with them.</item>
/// <item>Scenario 2: the distribution's labels f₂ are ℓ on S and fresh uniform labels c elsewhere; the algorithm trains on
/// U with S's labels and a uniform completion, which is ℓ off S. Because ℓ is uniform and independent of S, the same
/// (S, h) is a valid scenario-2 draw.</item>
/// </list>
/// A network h that interpolates (U, ℓ) has L₁ = 0 and L₂ = (1/n)·#{u ∉ S : c_u ≠ ℓ_u}, with E[L₂] = (1 − 1/K)(1 −
/// 1/n)^m.
/// </summary>
public sealed class TwinSample
{
    readonly int[] labels;
    readonly int[] draws;
    readonly bool[] seen;

    TwinSample(int classes, int[] labels, int[] draws)
    {
        Classes = classes;
        this.labels = labels;
        this.draws = draws;
        seen = new bool[labels.Length];
        foreach (var i in draws) seen[i] = true;
        UnseenCount = seen.Count(s => !s);
    }

    /// <summary>Universe of <paramref name="universe"/> points with uniform labels and a sample of <paramref name="sample"/> draws
    /// with replacement.</summary>
    public static TwinSample Draw(int universe, int sample, int classes, long seed)
    {
        Check(universe, sample, classes);
        var random = SeededRandom.Create(seed);
        var labels = new int[universe];
        for (int u = 0; u < universe; u++) labels[u] = random.Next(classes);
        var draws = new int[sample];
        for (int i = 0; i < sample; i++) draws[i] = random.Next(universe);
        return new TwinSample(classes, labels, draws);
    }

    /// <summary>A twin sample with given universe labels (e.g. a data set's true labels) and a fresh sample of draws.</summary>
    public static TwinSample WithLabels(IReadOnlyList<int> labels, int sample, int classes, long seed)
    {
        Check(labels.Count, sample, classes);
        if (labels.Any(l => l < 0 || l >= classes)) throw new BasinException($"universe labels must lie in 0..{classes - 1}");
        var random = SeededRandom.Create(seed);
        var draws = new int[sample];
        for (int i = 0; i < sample; i++) draws[i] = random.Next(labels.Count);
        return new TwinSample(classes, labels.ToArray(), draws);
    }

    static void Check(int universe, int sample, int classes)
    {
        if (sample < 1) throw new BasinException($"the sample needs at least 1 draw, got {sample}");
        if (universe < sample)
            throw new BasinException($"the universe ({universe} points) must not be smaller than the sample ({sample} draws)");
        if (classes < 2) throw new BasinException($"the twin construction needs at least 2 classes, got {classes}");
    }

    public int Classes { get; }
    public int UniverseSize => labels.Length;
    public int SampleSize => draws.Length;
    /// <summary>ℓ: the universe's labels (scenario 1's labels, and scenario 2's on S).</summary>
    public IReadOnlyList<int> Labels => labels;
    /// <summary>The sample's draws, indices into U in draw order (repeats included).</summary>
    public IReadOnlyList<int> Draws => draws;
    /// <summary>Whether each point of U was drawn at least once.</summary>
    public IReadOnlyList<bool> Seen => seen;
    public int UnseenCount { get; }
    /// <summary>ρ = |U \ S| / n.</summary>
    public double UnseenFraction => (double)UnseenCount / UniverseSize;

    /// <summary>E[ρ] = (1 − 1/n)^m for m draws with replacement from n points.</summary>
    public static double ExpectedUnseenFraction(int universe, int sample) => Math.Pow(1 - 1.0 / universe, sample);

    /// <summary>E[L₂] of an interpolating h: (1 − 1/K)·(1 − 1/n)^m.</summary>
    public static double ExpectedScenario2Loss(int universe, int sample, int classes) =>
        (1 - 1.0 / classes) * ExpectedUnseenFraction(universe, sample);

    /// <summary>Scenario 2's labels f₂: ℓ on S, a fresh uniform completion c (drawn by <paramref name="seed"/>) off S.</summary>
    public int[] Scenario2Labels(long seed)
    {
        var random = SeededRandom.Create(seed);
        var f = new int[UniverseSize];
        for (int u = 0; u < UniverseSize; u++)
        {
            int c = random.Next(Classes);
            f[u] = seen[u] ? labels[u] : c;
        }
        return f;
    }

    /// <summary>The population 0-1 loss under D (uniform on U) of predictions h(u) against labels f: (1/n)·#{u : h(u) ≠ f(u)}.</summary>
    public double Loss(IReadOnlyList<int> predictions, IReadOnlyList<int> f)
    {
        if (predictions.Count != UniverseSize || f.Count != UniverseSize)
            throw new BasinException($"need one prediction and one label per universe point ({UniverseSize}), got " +
                $"{predictions.Count} and {f.Count}");
        int wrong = 0;
        for (int u = 0; u < UniverseSize; u++) if (predictions[u] != f[u]) wrong++;
        return (double)wrong / UniverseSize;
    }

    /// <summary>Fraction of the unseen points U \ S on which two predictors disagree (NaN when every point was drawn).</summary>
    public double UnseenDisagreement(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != UniverseSize || b.Count != UniverseSize)
            throw new BasinException($"need one prediction per universe point ({UniverseSize}), got {a.Count} and {b.Count}");
        if (UnseenCount == 0) return double.NaN;
        int differ = 0;
        for (int u = 0; u < UniverseSize; u++) if (!seen[u] && a[u] != b[u]) differ++;
        return (double)differ / UnseenCount;
    }

    /// <summary>The same draws S with other universe labels (e.g. the data set's true labels).</summary>
    public TwinSample Relabel(IReadOnlyList<int> universeLabels)
    {
        if (universeLabels.Count != UniverseSize)
            throw new BasinException($"need one label per universe point ({UniverseSize}), got {universeLabels.Count}");
        if (universeLabels.Any(l => l < 0 || l >= Classes)) throw new BasinException($"universe labels must lie in 0..{Classes - 1}");
        return new TwinSample(Classes, universeLabels.ToArray(), draws);
    }

    /// <summary>Labels on U that are ℓ on S and <paramref name="elsewhere"/> off S (e.g. true labels on S, random elsewhere).</summary>
    public int[] OnSampleElse(IReadOnlyList<int> elsewhere)
    {
        if (elsewhere.Count != UniverseSize)
            throw new BasinException($"need one label per universe point ({UniverseSize}), got {elsewhere.Count}");
        var f = new int[UniverseSize];
        for (int u = 0; u < UniverseSize; u++) f[u] = seen[u] ? labels[u] : elsewhere[u];
        return f;
    }
}
