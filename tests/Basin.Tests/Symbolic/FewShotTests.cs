using Basin.Symbolic;
using System.Text.Json;
using Basin.Data;
using Basin.Experiments.Symbolic;
using Basin.Tests.Cli;
using Basin.Training;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Symbolic;

/// <summary>The few-shot task, the plateau schedule, the study's statistics and the `basin gssnn` commands.</summary>
public class FewShotTests
{
    static LabeledDataset Source()
    {
        // 40 examples, labels 0..9 in turn; each input holds its own index so a drawn example can be traced back.
        var inputs = torch.tensor(Enumerable.Range(0, 40).Select(i => (float)i).ToArray(), [40, 1]);
        return new LabeledDataset("source", inputs, torch.tensor(Enumerable.Range(0, 40).Select(i => (long)(i % 10)).ToArray()), 10);
    }

    [Fact]
    public void FootwearSetsAreBalancedLabelledByClassAndRepeatWithTheirSeed()
    {
        using var source = Source();
        using var a = FewShotTasks.Footwear(source, 10, seed: 3);
        var index = a.Inputs.data<float>().Select(v => (int)v).ToArray();
        var labels = a.Labels.data<long>().ToArray();
        Assert.Equal(5, labels.Count(l => l == 1));
        Assert.Equal(10, index.Distinct().Count());
        for (int i = 0; i < 10; i++) Assert.Equal(new[] { 5, 7, 9 }.Contains(index[i] % 10) ? 1L : 0L, labels[i]);
        using var again = FewShotTasks.Footwear(source, 10, seed: 3);
        using var other = FewShotTasks.Footwear(source, 10, seed: 4);
        Assert.Equal(index, again.Inputs.data<float>().Select(v => (int)v).ToArray());
        Assert.NotEqual(index, other.Inputs.data<float>().Select(v => (int)v).ToArray());
        Assert.Contains("12 positive and 28 negative", Assert.Throws<BasinException>(() => FewShotTasks.Footwear(source, 30, 1)).Message);
        Assert.Contains("even count", Assert.Throws<BasinException>(() => FewShotTasks.Footwear(source, 7, 1)).Message);
    }

    [Fact]
    public void ThePlateauScheduleHalvesAfterPatienceAndWaitsOutItsCooldown()
    {
        var plateau = new ReduceOnPlateau(1, factor: 0.5, patience: 2, threshold: 1e-4, cooldown: 1);
        var rates = new[] { 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5 }.Select(plateau.Step).ToArray();
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25], rates);
    }

    [Fact]
    public void AnovaAndIccOfTwoGroupsByHand()
    {
        // Groups (1,2,3) and (4,5,6): SSB = 13.5 on 1 df, SSW = 4 on 4 df, so F = 13.5 and ICC = (13.5 − 1)/(13.5 + 2·1).
        var (f, icc) = GssnnStudy.Anova([[1, 2, 3], [4, 5, 6]]);
        Assert.Equal(13.5, f, 12);
        Assert.Equal(12.5 / 15.5, icc, 12);
    }

    static GssnnArm Arm(string name, string kind, params (double Train, double Eval)[] runs) =>
        new(name, kind, null, 0, 0, runs.Select(r => new FewShotResult(r.Train, r.Eval, 1e-3)).ToList());

    [Fact]
    public void TheSummaryGivesTheAnovaPValueThePredictorsAndTheSelectionOnHeldOutSeeds()
    {
        // Four graphs with 4 seeds; graph g has eval (g, g, g+1, g+1)/10 and train ranks d > c > b > a on seeds 1-2.
        var names = new[] { "a", "b", "c", "d" };
        var graphs = names.Select((n, g) => Arm(n, "program", (0.5 + 0.1 * g, 0.1 * g), (0.5 + 0.1 * g, 0.1 * g), (0.2, 0.1 * g + 0.1),
            (0.2, 0.1 * g + 0.1)) with { Statistics = new GraphStatistics(g + 2, g + 1, 0, g, 1, 2 * g + 3) }).ToList();
        var arms = new List<GssnnArm> { Arm("baseline", "baseline", (1, 0.5), (1, 0.6)), Arm("matched", "matched", (1, 0.5), (1, 0.5)) };
        arms.AddRange(graphs);
        var s = GssnnStudy.Summarize(arms);
        // Group means 0.05, 0.15, 0.25, 0.35; SSB = 4·Σ(m − 0.2)² = 0.2, MSB = 0.2/3; within each group SS = 4·0.05² = 0.01,
        // MSW = 0.04/12. F = 20 on (3, 12) df; P(F(3,12) > 20) = I_{1/6}(6, 1.5) = 5.8189e-5 (numerical integration).
        Assert.Equal(20, s.AnovaF, 9);
        Assert.Equal(5.8189e-5, s.AnovaP, 8);
        Assert.Equal(1.0, s.Predictors["nodes"], 12);        // every statistic rises with the mean eval here
        Assert.Equal(1.0, s.Predictors["elements"], 12);
        var sel = s.Selection!;
        Assert.Equal(["d"], sel.Selected);                   // top quarter of 4 by train on seeds 1-2
        Assert.Equal(0.4, sel.SelectedEval, 12);             // d's eval on seeds 3-4
        Assert.Equal(0.25, sel.AllEval, 12);
        Assert.Equal(0.55, sel.BaselineEval, 12);
        Assert.Null(GssnnStudy.Select(graphs.Select(g => g with { Runs = g.Runs.Take(3).ToList() }).ToList(), arms[0]));
    }

    [Fact]
    public void ARoundIsReadAgainstTheBaselinesPercentileAndMinimum()
    {
        var stats = new GraphStatistics(2, 1, 0, 1, 1, 3);
        var members = new[] { (0.9, 0.70), (0.8, 0.60), (0.7, 0.50), (0.6, 0.65) }
            .Select((r, i) => new PopulationMember($"program{i + 1}", "add", 0, stats, new FewShotResult(r.Item1, r.Item2, 1e-3))).ToList();
        var round = GssnnPopulation.Read(2, members, baselineP90: 0.66, baselineMin: 0.55);
        Assert.Equal((2, 0.5, 0.7, 1, 1), (round.Round, round.MinEval, round.MaxEval, round.AboveBaselineP90, round.BelowBaselineMin));
        Assert.Equal(0.6125, round.MeanEval, 12);
        Assert.Equal(0.75, round.MeanTrain, 12);
    }

    [Fact]
    public void ATinyPopulationKeepsTheBetterHalfAndTestsItsTopQuarterOnFreshSeeds()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96, test: 64);
        var r = CliRunner.Run(dir, null, "gssnn", "population", "--size", "4", "--rounds", "2", "--held-out-seeds", "2",
            "--baseline-seeds", "2", "--epochs", "1", "--train-count", "8", "--eval-count", "8", "--dimension", "16", "--data", data,
            "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rounds = doc.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(2, rounds.Count);
        var first = rounds[0].GetProperty("members").EnumerateArray().ToList();
        var second = rounds[1].GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(["program1", "program2", "program3", "program4"], first.Select(m => m.GetProperty("name").GetString()));
        // The better half by training accuracy survives (ties by sampling order), two new programs join.
        var kept = first.OrderByDescending(m => m.GetProperty("result").GetProperty("trainAccuracy").GetDouble())
            .Select(m => m.GetProperty("name").GetString()).Take(2).ToList();
        Assert.Equal([.. kept, "program5", "program6"], second.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal([0, 0, 1, 1], second.Select(m => m.GetProperty("born").GetInt32()));
        var heldOut = doc.RootElement.GetProperty("heldOut").GetProperty("members").EnumerateArray().ToList();
        Assert.Single(heldOut);                                                  // the top quarter of 4
        Assert.Equal(2, doc.RootElement.GetProperty("baseline").GetArrayLength());
    }

    [Theory]
    [InlineData("study", "--baseline-seeds", "1", "--baseline-seeds must be at least 2, got 1")]
    [InlineData("study", "--task", "hats", "unknown few-shot task 'hats'")]
    [InlineData("study", "--embedding-scale", "-1", "--embedding-scale must be a finite number ≥ 0, got -1")]
    [InlineData("population", "--size", "2", "--size must be at least 4, got 2")]
    [InlineData("population", "--epochs", "0", "--epochs must be at least 1, got 0")]
    public void BadStudySettingsAreOneLineErrorsNamingTheFlag(string command, string option, string value, string message)
    {
        var dir = CliRunner.TempDir();
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "gssnn", command, option, value), message);
    }

    [Fact]
    public void ATinyStudyRunsEndToEndAndShowPrintsGraphs()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96, test: 64);
        var r = CliRunner.Run(dir, null, "gssnn", "study", "--programs", "1", "--no-controls", "--seeds", "2", "--baseline-seeds", "2",
            "--epochs", "1", "--train-count", "8", "--eval-count", "8", "--dimension", "16", "--data", data, "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var arms = doc.RootElement.GetProperty("arms").EnumerateArray().ToList();
        Assert.Equal(["baseline", "matched", "program1"], arms.Select(a => a.GetProperty("name").GetString()));
        Assert.All(arms, a => Assert.Equal(2, a.GetProperty("runs").GetArrayLength()));
        Assert.InRange(doc.RootElement.GetProperty("summary").GetProperty("baselineMean").GetDouble(), 0, 1);

        var show = CliRunner.Run(dir, null, "gssnn", "show", "cycle4");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.StartsWith("4 nodes (0 1 3 5), 4 edges, 8 elements", show.Stdout);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "gssnn", "show", "extend jump"), "word 2 'jump'");
    }
}
