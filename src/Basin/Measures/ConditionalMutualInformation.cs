namespace Basin.Measures;

/// <summary>
/// The conditional-mutual-information score of Jiang et al. (2020, §6). Over all unordered pairs of models (i, j):
/// V_μ = sign(μ_i − μ_j), V_g = sign(g_i − g_j) (0 for ties), and U_S = the settings of both models on the axes in S.
/// For each set S of <c>min(2, axes − 1)</c> axes, Î(S) = I(V_μ; V_g | U_S) / H(V_g | U_S) with the empirical
/// distribution over pairs (natural logs); the score is the minimum over S (a measure must predict the gap's
/// direction whichever two hyper-parameters are held known). Sets S with H(V_g | U_S) = 0 are skipped.
/// NaN when no set is usable.
/// </summary>
public static class ConditionalMutualInformation
{
    public static double Score(IReadOnlyList<ScoredModel> models, IReadOnlyList<string> axes)
    {
        var usable = models.Where(m => !double.IsNaN(m.Measure) && !double.IsNaN(m.Gap)).ToArray();
        var pairs = new List<(int Vm, int Vg, int I, int J)>();
        for (int i = 0; i < usable.Length; i++)
            for (int j = i + 1; j < usable.Length; j++)
                pairs.Add((Math.Sign(usable[i].Measure.CompareTo(usable[j].Measure)), Math.Sign(usable[i].Gap.CompareTo(usable[j].Gap)),
                    i, j));
        if (pairs.Count == 0) return double.NaN;
        int size = Math.Max(0, Math.Min(2, axes.Count - 1));
        double best = double.NaN;
        foreach (var set in Subsets(axes, size))
        {
            string Condition((int Vm, int Vg, int I, int J) p) =>
                string.Join("\u001f", set.Select(a => Value(usable[p.I], a) + "\u001e" + Value(usable[p.J], a)));
            double info = 0, entropy = 0;
            foreach (var z in pairs.GroupBy(Condition))
            {
                double pz = (double)z.Count() / pairs.Count;
                info += pz * MutualInformation(z.Select(p => (p.Vm, p.Vg)).ToArray());
                entropy += pz * Entropy(z.Select(p => p.Vg).ToArray());
            }
            if (entropy <= 1e-12) continue;
            double score = info / entropy;
            best = double.IsNaN(best) ? score : Math.Min(best, score);
        }
        return best;
    }

    static string Value(ScoredModel m, string axis) => m.Axes.TryGetValue(axis, out var v) ? v : "";

    static double Entropy<T>(IReadOnlyList<T> values) where T : notnull
    {
        double h = 0;
        foreach (var g in values.GroupBy(v => v))
        {
            double p = (double)g.Count() / values.Count;
            h -= p * Math.Log(p);
        }
        return h;
    }

    /// <summary>I(X;Y) = H(X) + H(Y) − H(X,Y) of the empirical joint distribution.</summary>
    public static double MutualInformation(IReadOnlyList<(int X, int Y)> samples) =>
        Entropy(samples.Select(s => s.X).ToArray()) + Entropy(samples.Select(s => s.Y).ToArray()) - Entropy(samples);

    static IEnumerable<string[]> Subsets(IReadOnlyList<string> items, int size)
    {
        if (size == 0) { yield return []; yield break; }
        for (int i = 0; i <= items.Count - size; i++)
            foreach (var rest in Subsets(items.Skip(i + 1).ToArray(), size - 1))
                yield return [items[i], .. rest];
    }
}
