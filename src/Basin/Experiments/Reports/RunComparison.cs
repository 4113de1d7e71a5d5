namespace Basin.Experiments.Reports;

/// <summary>A config setting whose value differs between two runs (null: the run has no such setting).</summary>
public sealed record ConfigDifference(string Key, string? A, string? B);

/// <summary>A figure (final figure or measure) of two runs, and B − A.</summary>
public sealed record FigurePair(string Figure, double? A, double? B)
{
    public double? Difference => A is { } a && B is { } b ? b - a : null;
}

/// <summary>
/// Two runs side by side: the config settings that differ (flattened keys, as <see cref="RunExport"/> names them, in
/// first-seen order) and every final figure and measure either has.
/// </summary>
public sealed record RunComparison(RunReport A, RunReport B, IReadOnlyList<ConfigDifference> Config, IReadOnlyList<FigurePair> Figures)
{
    /// <summary>Compares runs <paramref name="a"/> and <paramref name="b"/> (unique prefixes accepted).</summary>
    public static RunComparison Of(RunStore store, string a, string b)
    {
        var ra = RunReport.Load(store, a);
        var rb = RunReport.Load(store, b);
        var ca = Settings(store, ra.Id);
        var cb = Settings(store, rb.Id);
        var config = ca.Keys.Concat(cb.Keys).Distinct(StringComparer.Ordinal)
            .Select(k => new ConfigDifference(k, ca.GetValueOrDefault(k), cb.GetValueOrDefault(k)))
            .Where(d => d.A != d.B).ToList();
        var names = ra.Figures.Concat(rb.Figures).Select(f => f.Name).Distinct(StringComparer.Ordinal);
        var figures = names.Select(n => new FigurePair(n, ra.Figures.FirstOrDefault(f => f.Name == n)?.Value,
            rb.Figures.FirstOrDefault(f => f.Name == n)?.Value)).ToList();
        return new RunComparison(ra, rb, config, figures);
    }

    /// <summary>A run's config and labels (model, dataset, seed) as flattened settings.</summary>
    static Dictionary<string, string?> Settings(RunStore store, string id)
    {
        var run = store.Get(id);
        var cells = new Dictionary<string, string?>
        {
            ["model"] = run.Summary.Model, ["dataset"] = run.Summary.Dataset,
            ["seed"] = run.Summary.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        RunExport.Flatten(run.Config, "config.", cells);
        return cells;
    }
}
