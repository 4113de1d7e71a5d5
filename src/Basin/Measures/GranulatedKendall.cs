namespace Basin.Measures;

/// <summary>Ψ and its per-axis parts ψ_i; an axis whose groups give no defined τ is left out (NaN in <see cref="PerAxis"/>).</summary>
public sealed record GranulatedScore(double Psi, IReadOnlyDictionary<string, double> PerAxis, IReadOnlyDictionary<string, int> Groups);

/// <summary>
/// The granulated Kendall coefficient of Jiang et al. (2020): for each hyper-parameter axis i, split the models into
/// groups that agree on every other axis (so they differ only in axis i), take τ-b between the measure and the gap
/// within each group of at least two models, and average over the groups: ψ_i. Ψ is the mean of the ψ_i over the axes.
/// Groups whose τ is undefined (all gaps or all measure values tied) are skipped, and so are axes without any
/// defined group; <see cref="GranulatedScore.Groups"/> counts the groups used per axis.
/// </summary>
public static class GranulatedKendall
{
    public static GranulatedScore Score(IReadOnlyList<ScoredModel> models, IReadOnlyList<string> axes)
    {
        var perAxis = new Dictionary<string, double>();
        var groups = new Dictionary<string, int>();
        foreach (var axis in axes)
        {
            var taus = new List<double>();
            foreach (var group in models.GroupBy(m => Key(m, axes, axis)))
            {
                var g = group.ToArray();
                if (g.Length < 2) continue;
                double tau = KendallTau.TauB(g.Select(m => m.Measure).ToArray(), g.Select(m => m.Gap).ToArray());
                if (!double.IsNaN(tau)) taus.Add(tau);
            }
            perAxis[axis] = taus.Count > 0 ? taus.Average() : double.NaN;
            groups[axis] = taus.Count;
        }
        var defined = perAxis.Values.Where(v => !double.IsNaN(v)).ToArray();
        return new GranulatedScore(defined.Length > 0 ? defined.Average() : double.NaN, perAxis, groups);
    }

    static string Key(ScoredModel m, IReadOnlyList<string> axes, string except) =>
        string.Join("\u001f", axes.Where(a => a != except).Select(a => m.Axes.TryGetValue(a, out var v) ? v : ""));
}
