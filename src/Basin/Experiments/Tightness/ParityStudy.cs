using Basin.IO;
using Basin.Experiments;
using Basin.Tightness;

namespace Basin.Experiments.Tightness;

/// <summary>
/// The learnability–estimability table for parities over GF(2)^<see cref="Dimension"/>: the exact row for each sample
/// size in <see cref="SampleSizes"/> and, when <see cref="Draws"/> &gt; 0, a simulation of the elimination learner with
/// that many draws per row. <see cref="Output"/>: a JSON file to write (none by default).
/// </summary>
public sealed record ParityConfig
{
    public int Dimension { get; init; } = 20;
    public IReadOnlyList<int> SampleSizes { get; init; } = [5, 10, 15, 18, 19, 20, 21, 22, 25, 30, 40];
    public int Draws { get; init; } = 4000;
    public long Seed { get; init; }
    public string? Output { get; init; }

    public void Validate()
    {
        Gf2Elimination.CheckDimension(Dimension);
        if (SampleSizes.Count == 0) throw new BasinException("give at least one sample size m");
        if (SampleSizes.Any(m => m < 0 || m > 100_000))
            throw new BasinException($"sample sizes must be from 0 to 100000, got {string.Join(",", SampleSizes)}");
        if (Draws is < 0 or 1) throw new BasinException($"--draws must be 0 (no simulation) or at least 2, got {Draws}");
    }
}

/// <summary>An exact row with its simulation (null without one).</summary>
public sealed record ParityTableRow(ParityRow Exact, ParitySimulation? Simulated);

/// <summary>The table, and the sample size where the least achievable bound error peaks.</summary>
public sealed record ParityResult(int Dimension, long Seed, IReadOnlyList<ParityTableRow> Rows, int WorstM,
    double WorstLeastBoundError, string? JsonPath);

public static class ParityStudy
{
    public static ParityResult Run(ParityConfig config, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var rows = new List<ParityTableRow>();
        foreach (var m in config.SampleSizes)
        {
            ct.ThrowIfCancellationRequested();
            var simulated = config.Draws > 0 ? ParityTradeoff.Simulate(config.Dimension, m, config.Draws,
                unchecked(config.Seed * 1_000_003 + m)) : null;
            rows.Add(new ParityTableRow(ParityTradeoff.Exact(config.Dimension, m), simulated));
        }
        var worst = rows.MaxBy(r => r.Exact.LeastBoundError)!;
        var result = new ParityResult(config.Dimension, config.Seed, rows, worst.Exact.M, worst.Exact.LeastBoundError, config.Output);
        if (config.Output is { } path)
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
            AtomicFile.WriteAllText(path, Json.Serialize(result));
        }
        return result;
    }
}
