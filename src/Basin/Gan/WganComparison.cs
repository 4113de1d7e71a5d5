using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The grid of the WGAN-LP paper's λ-sensitivity study on a toy set: every regularization × λ × seed (weight
/// clipping has no λ and runs once per seed). Each run trains fresh MLPs (generator seeded s, critic s + 1) on
/// <see cref="DataCount"/> points of the toy set (data seeded s) and measures the exact W1 between
/// <see cref="EvaluationCount"/> generated and as many real points before and after.
/// </summary>
public sealed record WganComparisonConfig(
    string Dataset = "8gaussians",
    IReadOnlyList<LipschitzRegularization>? Regularizations = null,
    IReadOnlyList<double>? Lambdas = null,
    IReadOnlyList<long>? Seeds = null,
    WganConfig? Training = null,
    IReadOnlyList<int>? HiddenWidths = null,
    int LatentDim = 2,
    int DataCount = 4096,
    int EvaluationCount = 512)
{
    public IReadOnlyList<LipschitzRegularization> EffectiveRegularizations => Regularizations ??
        [LipschitzRegularization.WeightClipping, LipschitzRegularization.GradientPenalty, LipschitzRegularization.LipschitzPenalty];
    public IReadOnlyList<double> EffectiveLambdas => Lambdas ?? [1, 10, 100];
    public IReadOnlyList<long> EffectiveSeeds => Seeds ?? [0, 1, 2];
    public WganConfig EffectiveTraining => Training ?? new WganConfig();
}

/// <summary>One run of the grid. <paramref name="Lambda"/> is null for weight clipping. A diverged run has NaN final values and the
/// message.</summary>
public sealed record WganComparisonRow(
    LipschitzRegularization Regularization,
    double? Lambda,
    long Seed,
    double InitialW1,
    double FinalW1,
    double FinalWassersteinEstimate,
    string? Divergence)
{
    public bool Diverged => Divergence is not null;

    /// <summary>The run's recorded states (critic estimate, and exact W1 where the training config asks for it), up to
    /// divergence.</summary>
    public IReadOnlyList<WganProgress> History { get; init; } = [];
}

/// <summary>One cell of the grid over seeds: mean and sample standard deviation of the final W1 of the runs that did not diverge.</summary>
public sealed record WganComparisonSummary(LipschitzRegularization Regularization, double? Lambda, int Runs, int Diverged,
    double MeanFinalW1, double StdFinalW1);

public sealed record WganComparisonProgress(int Run, int RunCount, WganComparisonRow Row);

public static class WganComparison
{
    public static IReadOnlyList<WganComparisonRow> Run(WganComparisonConfig config, IProgress<WganComparisonProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var cells = Cells(config).ToList();
        if (cells.Count == 0) throw new BasinException("wgan comparison: the grid is empty (no regularization, λ or seed)");
        if (config.EvaluationCount < 1 || config.EvaluationCount > config.DataCount)
            throw new BasinException($"wgan comparison: evaluation count must be between 1 and the data count {config.DataCount}, got " +
                $"{config.EvaluationCount}");
        config.EffectiveTraining.Validate();

        var rows = new List<WganComparisonRow>(cells.Count);
        foreach (var (regularization, lambda, seed) in cells)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = RunOne(config, regularization, lambda, seed, cancellationToken);
            rows.Add(row);
            progress?.Report(new WganComparisonProgress(rows.Count, cells.Count, row));
        }
        return rows;
    }

    public static IReadOnlyList<WganComparisonSummary> Summarize(IEnumerable<WganComparisonRow> rows) =>
        rows.GroupBy(r => (r.Regularization, r.Lambda))
            .Select(g =>
            {
                var finals = g.Where(r => !r.Diverged).Select(r => r.FinalW1).ToArray();
                double mean = finals.Length > 0 ? finals.Average() : double.NaN;
                double std = SampleStatistics.StandardDeviation(finals);
                return new WganComparisonSummary(g.Key.Regularization, g.Key.Lambda, g.Count(), g.Count(r => r.Diverged), mean, std);
            })
            .ToList();

    static IEnumerable<(LipschitzRegularization, double?, long)> Cells(WganComparisonConfig config)
    {
        foreach (var regularization in config.EffectiveRegularizations)
        {
            var lambdas = regularization == LipschitzRegularization.WeightClipping
                ? new double?[] { null } : config.EffectiveLambdas.Select(l => (double?)l).ToArray();
            foreach (var lambda in lambdas)
                foreach (var seed in config.EffectiveSeeds)
                    yield return (regularization, lambda, seed);
        }
    }

    static WganComparisonRow RunOne(WganComparisonConfig config, LipschitzRegularization regularization, double? lambda, long seed,
        CancellationToken cancellationToken)
    {
        using var data = ToyDatasets.Create(config.Dataset, config.DataCount, seed);
        using var generator = new MlpGenerator(config.LatentDim, 2, config.HiddenWidths, seed);
        using var critic = new MlpCritic(2, config.HiddenWidths, seed + 1);
        var training = config.EffectiveTraining with
        {
            Regularization = regularization,
            Lambda = lambda ?? config.EffectiveTraining.Lambda,
            Seed = seed,
            // Checkpoints of the runs would overwrite each other; the study only needs the metrics.
            CheckpointDirectory = null,
        };
        double initial = ExactWasserstein.GeneratorDistance(generator, data.Inputs, config.EvaluationCount, seed);
        var history = new List<WganProgress>();
        try
        {
            var result = new WganTrainer(generator, critic, training).Train(data.Inputs, new Collector(history), cancellationToken);
            double final = ExactWasserstein.GeneratorDistance(generator, data.Inputs, config.EvaluationCount, seed);
            return new WganComparisonRow(regularization, lambda, seed, initial, final, result.Final.WassersteinEstimate,
                null) { History = history };
        }
        catch (DivergenceException e)
        {
            return new WganComparisonRow(regularization, lambda, seed, initial, double.NaN, double.NaN, e.Message) { History = history };
        }
    }

    sealed class Collector(List<WganProgress> list) : IProgress<WganProgress>
    {
        public void Report(WganProgress value) => list.Add(value);
    }
}
