using Basin.Data.Corruptions;

namespace Basin.Experiments.Robustness;

/// <summary>
/// A robustness evaluation: the finished runs (training or prune runs, all tested on the same data) evaluated on their clean
/// test set and on every corruption at every severity, with per-sample geometry of the penultimate features; files go to
/// <see cref="Out"/> (docs/pruning.md, "Robustness and geometry").
/// </summary>
public sealed record RobustnessSpec
{
    public required IReadOnlyList<string> Runs { get; init; }
    /// <summary>"all" or a comma-separated list of corruption names (<see cref="ImageCorruptions.Names"/>).</summary>
    public string Corruptions { get; init; } = "all";
    /// <summary>Severities: "1-5", "3", or "1,3,5".</summary>
    public string Severities { get; init; } = "1-5";
    /// <summary>The first this many test examples; the runs' whole test set when null.</summary>
    public int? Samples { get; init; }
    /// <summary>Base seed of the corruptions' random draws (each image is seeded by it, the corruption, the severity and its
    /// index).</summary>
    public long Seed { get; init; }
    /// <summary>The folder for the CSV tables, result.json and the PNGs.</summary>
    public required string Out { get; init; }
    /// <summary>How many of the most fragile and most robust samples to list.</summary>
    public int Extremes { get; init; } = 20;
    public int BatchSize { get; init; } = 500;

    /// <summary>Checks what does not need the runs; returns the corruptions and severities parsed.</summary>
    public (IReadOnlyList<Corruption> Corruptions, IReadOnlyList<int> Severities) Validated()
    {
        if (Runs.Count == 0) throw new OptionException("RUN", "give at least one run to evaluate");
        var dup = Runs.GroupBy(r => r).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new OptionException("RUN", $"run '{dup.Key}' is given twice");
        if (Samples is { } n) Check.AtLeast(n, 1, "--samples");
        Check.AtLeast(Extremes, 1, "--extremes");
        Check.AtLeast(BatchSize, 1, "--batch-size");
        if (string.IsNullOrWhiteSpace(Out)) throw new OptionException("--out", "--out needs a folder");
        return (ImageCorruptions.Parse(Corruptions), ImageCorruptions.ParseSeverities(Severities));
    }
}
