using Basin.Data;
using Basin.Measures;
using Basin.Symbolic;
using TorchSharp;

namespace Basin.Experiments.Symbolic;

/// <summary>What a G-SSNN study trains: sampled programs and control graphs, each with several seeds, against the plain
/// encoder and a matched-capacity encoder, on the few-shot footwear task.</summary>
public sealed record GssnnStudySpec
{
    /// <summary>Sampled programs (lengths up to <see cref="ProgramLength"/>, seeds 1..N).</summary>
    public int Programs { get; init => field = Basin.Check.AtLeast(value, 0, nameof(Programs)); } = 24;
    public int ProgramLength { get; init => field = Basin.Check.AtLeast(value, 1, nameof(ProgramLength)); } = 12;

    /// <summary>Also train the control graphs (<see cref="CanonicalGraphs"/>).</summary>
    public bool Controls { get; init; } = true;
    public int SeedsPerProgram { get; init => field = Basin.Check.AtLeast(value, 1, nameof(SeedsPerProgram)); } = 4;
    public int BaselineSeeds { get; init => field = Basin.Check.AtLeast(value, 2, nameof(BaselineSeeds)); } = 20;

    /// <summary>The few-shot task (<see cref="FewShotTasks"/>): "shirt" (hard) or "footwear" (easy).</summary>
    public string Task { get; init => field = FewShotTasks.Get(value).Name; } = "shirt";

    /// <summary>The encoder's feature dimension D.</summary>
    public int Dimension { get; init; } = 128;
    public int TrainCount { get; init; } = 128;
    public int EvalCount { get; init; } = 2000;

    /// <summary>Seed of the task's examples (the same for every arm).</summary>
    public long DataSeed { get; init; }
    public string? DataPath { get; init; }
    public FewShotSchedule Schedule { get; init; } = new();

    /// <summary>The G-SSNN module's options (the paper's by default).</summary>
    public GraphModuleOptions Module { get; init; } = new();

    /// <summary>libtorch threads (null: its default).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int? Threads { get; init; }
}

/// <summary>One arm (baseline, matched capacity, or a graph) and its per-seed accuracies.</summary>
public sealed record GssnnArm(string Name, string Kind, string? Program, int Nodes, int Edges, IReadOnlyList<FewShotResult> Runs)
{
    /// <summary>The graph's shape (null for the baseline and matched-capacity arms).</summary>
    public GraphStatistics? Statistics { get; init; }

    public double MeanEval => Runs.Average(r => r.EvalAccuracy);
    public double MeanTrain => Runs.Average(r => r.TrainAccuracy);
}

/// <summary>
/// The study's reading: the baseline's mean and seed spread; one-way ANOVA of eval accuracy on the program (F and the
/// intraclass correlation σ²_between / (σ²_between + σ²_within)); programs whose mean is more than 2 standard errors above
/// or below the baseline mean; Kendall τ between programs' mean train and mean eval accuracy (does selecting by
/// training accuracy pick programs that generalize?).
/// </summary>
public sealed record GssnnSummary(
    double BaselineMean,
    double BaselineSd,
    double MatchedMean,
    double MatchedSd,
    double ProgramMean,
    double AnovaF,
    double Icc,
    int Above,
    int Below,
    int ProgramCount,
    double? TauTrainEval
)
{
    /// <summary>The ANOVA's p-value: the upper tail of F(k − 1, N − k) at <see cref="AnovaF"/>.</summary>
    public double AnovaP { get; init; } = double.NaN;

    /// <summary>Spearman's ρ between each graph statistic (<see cref="GraphStatistics.Names"/>) and the programs' mean eval.</summary>
    public IReadOnlyDictionary<string, double> Predictors { get; init; } = new Dictionary<string, double>();

    /// <summary>Selection on held-out seeds (with at least 4 seeds per program), or null.</summary>
    public GssnnSelection? Selection { get; init; }
}

/// <summary>
/// Selection honesty: the top quarter of the graphs by mean training accuracy on the first half of their seeds, and
/// their mean eval accuracy on the other half, against the baseline's mean and the mean of all graphs on those seeds.
/// </summary>
public sealed record GssnnSelection(IReadOnlyList<string> Selected, double SelectedEval, double AllEval, double BaselineEval);

public sealed record GssnnStudyResult(GssnnStudySpec Spec, IReadOnlyList<GssnnArm> Arms, GssnnSummary Summary);

/// <summary>One finished training run of a study, for progress (<see cref="Reused"/>: taken from an earlier, resumed run).</summary>
public sealed record GssnnProgress(int Done, int Total, string Arm, long Seed, FewShotResult Result)
{
    public bool Reused { get; init; }
}

public static class GssnnStudy
{
    /// <param name="finished">Trainings already done (by arm and seed), from an interrupted run of the same spec: training is
    /// deterministic, so they are taken as they are instead of trained again.</param>
    public static GssnnStudyResult Run(
        GssnnStudySpec spec,
        IProgress<GssnnProgress>? progress = null,
        CancellationToken cancellationToken = default,
        IReadOnlyDictionary<(string Arm, long Seed), FewShotResult>? finished = null
    )
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var bench = new GssnnBench(spec, cancellationToken, finished);

        var graphs = new List<(string Name, string Kind, string? Program, ElementGraph Graph)>();
        if (spec.Controls)
            foreach (var (name, (text, _)) in CanonicalGraphs.All)
                graphs.Add((name, "control", text, CanonicalGraphs.Get(name)));
        for (int i = 1; i <= spec.Programs; i++)
        {
            var program = GraphProgram.Sample(spec.ProgramLength, i);
            graphs.Add(($"program{i}", "program", program.Text, program.Run()));
        }
        foreach (var g in graphs)
            if (g.Graph.ElementCount > spec.Dimension)
                throw new BasinException($"graph '{g.Name}' has {g.Graph.ElementCount} elements, more than the dimension {spec.Dimension}");

        int total = 2 * spec.BaselineSeeds + graphs.Count * spec.SeedsPerProgram,
            done = 0;
        FewShotResult TrainOne(string arm, FewShotHead head, ElementGraph? graph, long seed)
        {
            var (result, reused) = bench.Train(arm, head, graph, seed);
            progress?.Report(new GssnnProgress(++done, total, arm, seed, result) { Reused = reused });
            return result;
        }
        var arms = new List<GssnnArm>
        {
            new(
                "baseline",
                "baseline",
                null,
                0,
                0,
                Seeds(spec.BaselineSeeds).Select(s => TrainOne("baseline", FewShotHead.Baseline, null, s)).ToList()
            ),
            new(
                "matched",
                "matched",
                null,
                0,
                0,
                Seeds(spec.BaselineSeeds).Select(s => TrainOne("matched", FewShotHead.MatchedCapacity, null, s)).ToList()
            ),
        };
        foreach (var g in graphs)
            arms.Add(
                new GssnnArm(
                    g.Name,
                    g.Kind,
                    g.Program,
                    g.Graph.Nodes.Count,
                    g.Graph.Edges.Count,
                    Seeds(spec.SeedsPerProgram).Select(s => TrainOne(g.Name, FewShotHead.Graph, g.Graph, s)).ToList()
                ) { Statistics = GraphStatistics.Of(g.Graph) }
            );
        return new GssnnStudyResult(spec, arms, Summarize(arms));
    }

    static IEnumerable<long> Seeds(int n) => Enumerable.Range(1, n).Select(i => (long)i);

    /// <summary>The reading of <see cref="GssnnSummary"/> from the arms (the first two are the baseline and matched capacity).</summary>
    public static GssnnSummary Summarize(IReadOnlyList<GssnnArm> arms)
    {
        var baseline = arms.Single(a => a.Kind == "baseline").Runs.Select(r => r.EvalAccuracy).ToArray();
        var matched = arms.Single(a => a.Kind == "matched").Runs.Select(r => r.EvalAccuracy).ToArray();
        var programs = arms.Where(a => a.Kind is "program" or "control").ToList();
        double bMean = baseline.Average(),
            bSd = Sd(baseline);
        double se = bSd / Math.Sqrt(baseline.Length);
        int above = 0,
            below = 0;
        foreach (var p in programs)
        {
            double margin = 2 * Math.Sqrt(se * se + Math.Pow(Sd(p.Runs.Select(r => r.EvalAccuracy).ToArray()), 2) / p.Runs.Count);
            if (p.MeanEval > bMean + margin)
                above++;
            else if (p.MeanEval < bMean - margin)
                below++;
        }
        var (f, icc) = Anova(programs.Select(p => p.Runs.Select(r => r.EvalAccuracy).ToArray()).ToList());
        double? tau =
            programs.Count >= 2
                ? KendallTau.TauB(programs.Select(p => p.MeanTrain).ToArray(), programs.Select(p => p.MeanEval).ToArray())
                : null;
        int runs = programs.Sum(p => p.Runs.Count);
        return new GssnnSummary(
            bMean,
            bSd,
            matched.Average(),
            Sd(matched),
            programs.Count > 0 ? programs.Average(p => p.MeanEval) : double.NaN,
            f,
            icc,
            above,
            below,
            programs.Count,
            tau is { } t && double.IsFinite(t) ? t : null
        )
        {
            AnovaP = double.IsFinite(f)
                ? 1 - MathNet.Numerics.Distributions.FisherSnedecor.CDF(programs.Count - 1, runs - programs.Count, f)
                : double.NaN,
            Predictors = Predictors(programs),
            Selection = Select(programs, arms.Single(a => a.Kind == "baseline")),
        };
    }

    /// <summary>Spearman's ρ of each graph statistic against the programs' mean eval accuracy (needs 3 or more graphs).</summary>
    static IReadOnlyDictionary<string, double> Predictors(IReadOnlyList<GssnnArm> programs)
    {
        var withStatistics = programs.Where(p => p.Statistics is not null).ToList();
        if (withStatistics.Count < 3) return new Dictionary<string, double>();
        var eval = withStatistics.Select(p => p.MeanEval).ToArray();
        return GraphStatistics.Names.Select((name, i) => (name, rho: MathNet.Numerics.Statistics.Correlation.Spearman(
                withStatistics.Select(p => p.Statistics!.Values[i]), eval)))
            .ToDictionary(x => x.name, x => x.rho);
    }

    /// <summary>
    /// The top quarter (at least one) of the graphs by mean train accuracy on seeds 1..n/2, and their mean eval accuracy on
    /// the other seeds; null with fewer than 4 seeds per graph or fewer than 4 graphs.
    /// </summary>
    public static GssnnSelection? Select(IReadOnlyList<GssnnArm> programs, GssnnArm baseline)
    {
        if (programs.Count < 4 || programs.Any(p => p.Runs.Count < 4)) return null;
        double HeldOut(GssnnArm a) => a.Runs.Skip(a.Runs.Count / 2).Average(r => r.EvalAccuracy);
        var selected = programs.OrderByDescending(p => p.Runs.Take(p.Runs.Count / 2).Average(r => r.TrainAccuracy))
            .ThenBy(p => p.Name, StringComparer.Ordinal).Take(Math.Max(1, programs.Count / 4)).ToList();
        return new GssnnSelection(selected.Select(p => p.Name).ToList(), selected.Average(HeldOut), programs.Average(HeldOut),
            baseline.Runs.Average(r => r.EvalAccuracy));
    }

    /// <summary>The sample standard deviation (<see cref="SampleStatistics"/>), shown as 0 for fewer than two values.</summary>
    public static double Sd(IReadOnlyList<double> x) => x.Count < 2 ? 0 : SampleStatistics.StandardDeviation(x);

    /// <summary>
    /// One-way ANOVA F and the intraclass correlation (groups of equal size n): ICC = (MSB − MSW) / (MSB + (n−1)·MSW).
    /// </summary>
    public static (double F, double Icc) Anova(IReadOnlyList<double[]> groups)
    {
        if (groups.Count < 2 || groups.Any(g => g.Length < 2))
            return (double.NaN, double.NaN);
        int k = groups.Count,
            n = groups[0].Length,
            total = groups.Sum(g => g.Length);
        double grand = groups.SelectMany(g => g).Average();
        double ssb = groups.Sum(g => g.Length * Math.Pow(g.Average() - grand, 2));
        double ssw = groups.Sum(g => g.Sum(v => Math.Pow(v - g.Average(), 2)));
        double msb = ssb / (k - 1),
            msw = ssw / (total - k);
        double f = msw > 0 ? msb / msw : double.PositiveInfinity;
        double icc = (msb - msw) / (msb + (n - 1) * msw);
        return (f, icc);
    }
}
