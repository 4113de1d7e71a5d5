using Basin.Gan;
using Xunit;

namespace Basin.Tests.Gan;

public class WganComparisonTests
{
    [Fact]
    public void RunsEveryCellOfTheGridOnceAndSummarizesOverSeeds()
    {
        var config = new WganComparisonConfig(
            Lambdas: [1, 100],
            Seeds: [3, 4],
            Training: new WganConfig(GeneratorIterations: 4, WarmupIterations: 0, CriticSteps: 2, BatchSize: 32),
            HiddenWidths: [8],
            DataCount: 64,
            EvaluationCount: 32);
        var reported = new List<WganComparisonProgress>();
        var rows = WganComparison.Run(config, new Collect(reported));

        // Clipping once per seed, then GP and LP for each λ and seed.
        var expected = new (LipschitzRegularization, double?, long)[]
        {
            (LipschitzRegularization.WeightClipping, null, 3), (LipschitzRegularization.WeightClipping, null, 4),
            (LipschitzRegularization.GradientPenalty, 1, 3), (LipschitzRegularization.GradientPenalty, 1, 4),
            (LipschitzRegularization.GradientPenalty, 100, 3), (LipschitzRegularization.GradientPenalty, 100, 4),
            (LipschitzRegularization.LipschitzPenalty, 1, 3), (LipschitzRegularization.LipschitzPenalty, 1, 4),
            (LipschitzRegularization.LipschitzPenalty, 100, 3), (LipschitzRegularization.LipschitzPenalty, 100, 4),
        };
        Assert.Equal(expected, rows.Select(r => (r.Regularization, r.Lambda, r.Seed)));
        Assert.Equal(Enumerable.Range(1, 10), reported.Select(p => p.Run));
        Assert.All(reported, p => Assert.Equal(10, p.RunCount));
        Assert.All(rows, r => Assert.False(r.Diverged));
        Assert.All(rows, r => Assert.True(double.IsFinite(r.FinalW1) && r.FinalW1 > 0));
        // Runs with the same seed start from the same networks and data, so their initial W1 agree exactly.
        Assert.Single(rows.Where(r => r.Seed == 3).Select(r => r.InitialW1).Distinct());
        Assert.NotEqual(rows[0].InitialW1, rows[1].InitialW1);

        var summary = WganComparison.Summarize(rows);
        Assert.Equal(5, summary.Count);
        var lp100 = summary.Single(s => s.Regularization == LipschitzRegularization.LipschitzPenalty && s.Lambda == 100);
        var cell = rows.Where(r => r.Regularization == LipschitzRegularization.LipschitzPenalty && r.Lambda == 100).Select(r => r.FinalW1).ToArray();
        Assert.Equal(2, lp100.Runs);
        Assert.Equal(cell.Average(), lp100.MeanFinalW1, 12);
        Assert.Equal(Math.Abs(cell[0] - cell[1]) / Math.Sqrt(2), lp100.StdFinalW1, 12);
    }

    [Fact]
    public void SummaryCountsDivergedRunsApart()
    {
        var rows = new[]
        {
            new WganComparisonRow(LipschitzRegularization.GradientPenalty, 10, 0, 1.5, 0.2, 0.3, null),
            new WganComparisonRow(LipschitzRegularization.GradientPenalty, 10, 1, 1.5, double.NaN, double.NaN, "wgan diverged at generator iteration 7: critic loss is NaN"),
        };
        var s = Assert.Single(WganComparison.Summarize(rows));
        Assert.Equal((2, 1, 0.2), (s.Runs, s.Diverged, s.MeanFinalW1));
        Assert.True(double.IsNaN(s.StdFinalW1));
    }

    [Fact]
    public void RejectsAnEmptyGrid()
    {
        var e = Assert.Throws<BasinException>(() => WganComparison.Run(new WganComparisonConfig(Seeds: [])));
        Assert.Equal("wgan comparison: the grid is empty (no regularization, λ or seed)", e.Message);
    }

    sealed class Collect(List<WganComparisonProgress> list) : IProgress<WganComparisonProgress>
    {
        public void Report(WganComparisonProgress value) => list.Add(value);
    }
}
