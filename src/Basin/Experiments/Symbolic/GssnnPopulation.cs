using Basin.Symbolic;

namespace Basin.Experiments.Symbolic;

/// <summary>
/// The paper's population loop, without its library learning: <see cref="Size"/> sampled programs, one seed each; every
/// round keeps the better half by training accuracy (the paper selects on training accuracy) and refills with newly
/// sampled programs. At the end the top quarter by training accuracy is trained again on fresh seeds, an honest test
/// of what selection picked. The task, encoder, schedule and module are those of <see cref="Bench"/>.
/// </summary>
public sealed record GssnnPopulationSpec
{
    /// <summary>Task, encoder, schedule, module options, baseline seeds, program length, data and threads.</summary>
    public GssnnStudySpec Bench { get; init; } = new() { BaselineSeeds = 10 };
    public int Size { get; init => field = Check.AtLeast(value, 4, "size"); } = 16;
    public int Rounds { get; init => field = Check.AtLeast(value, 1, "rounds"); } = 4;

    /// <summary>Fresh seeds for the final top quarter.</summary>
    public int HeldOutSeeds { get; init => field = Check.AtLeast(value, 1, "heldOutSeeds"); } = 2;
}

/// <summary>A program of the population with its one training run; <see cref="Born"/> is the round it was sampled in.</summary>
public sealed record PopulationMember(string Name, string Program, int Born, GraphStatistics Statistics, FewShotResult Result);

/// <summary>
/// One round's population: its members and the reading of E.3 (mean, minimum and maximum eval, mean train; how many
/// exceed the baseline's 90th percentile and how many fall below its minimum).
/// </summary>
public sealed record PopulationRound(int Round, IReadOnlyList<PopulationMember> Members, double MeanEval, double MinEval, double MaxEval,
    double MeanTrain, int AboveBaselineP90, int BelowBaselineMin);

/// <summary>A member of the final top quarter and its mean eval accuracy over fresh seeds.</summary>
public sealed record HeldOutMember(string Name, string Program, double Eval);

/// <summary>The final top quarter trained again on fresh seeds, and their mean eval accuracy.</summary>
public sealed record PopulationHeldOut(IReadOnlyList<HeldOutMember> Members, double MeanEval);

/// <summary>
/// A population run: the baseline's seeds and its mean, 90th percentile (MathNet's default quantile, R-8) and minimum
/// eval accuracy; every round; the held-out test of the final top quarter.
/// </summary>
public sealed record GssnnPopulationResult(GssnnPopulationSpec Spec, IReadOnlyList<FewShotResult> Baseline, double BaselineMean,
    double BaselineP90, double BaselineMin, IReadOnlyList<PopulationRound> Rounds, PopulationHeldOut HeldOut);

public static class GssnnPopulation
{
    /// <param name="finished">Trainings already done (by arm and seed) in an interrupted run of the same spec.</param>
    public static GssnnPopulationResult Run(GssnnPopulationSpec spec, IProgress<GssnnProgress>? progress = null,
        CancellationToken cancellationToken = default, IReadOnlyDictionary<(string Arm, long Seed), FewShotResult>? finished = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var bench = new GssnnBench(spec.Bench, cancellationToken, finished);
        int survivors = spec.Size / 2, top = Math.Max(1, spec.Size / 4);
        int total = spec.Bench.BaselineSeeds + spec.Size + (spec.Rounds - 1) * (spec.Size - survivors) + top * spec.HeldOutSeeds;
        int done = 0;
        FewShotResult Train(string arm, ElementGraph? graph, long seed)
        {
            var (result, reused) = bench.Train(arm, graph is null ? FewShotHead.Baseline : FewShotHead.Graph, graph, seed);
            progress?.Report(new GssnnProgress(++done, total, arm, seed, result) { Reused = reused });
            return result;
        }

        var baseline = Enumerable.Range(1, spec.Bench.BaselineSeeds).Select(s => Train("baseline", null, s)).ToList();
        var evals = baseline.Select(r => r.EvalAccuracy).Order().ToArray();
        double p90 = MathNet.Numerics.Statistics.Statistics.Quantile(evals, 0.9), min = evals[0];

        int sampled = 0;
        PopulationMember Sample(int round)
        {
            var program = GraphProgram.Sample(spec.Bench.ProgramLength, ++sampled);
            var graph = program.Run();
            var name = $"program{sampled}";
            return new PopulationMember(name, program.Text, round, GraphStatistics.Of(graph), Train(name, graph, 1));
        }

        var rounds = new List<PopulationRound>();
        var population = Enumerable.Range(0, spec.Size).Select(_ => Sample(0)).ToList();
        for (int round = 0; ; round++)
        {
            rounds.Add(Read(round, population, p90, min));
            if (round == spec.Rounds - 1) break;
            var kept = ByTraining(population).Take(survivors).ToList();
            population = [.. kept, .. Enumerable.Range(0, spec.Size - survivors).Select(_ => Sample(round + 1))];
        }

        var best = ByTraining(population).Take(top).ToList();
        var heldOut = best.Select(m =>
        {
            var graph = GraphProgram.Parse(m.Program).Run();
            var runs = Enumerable.Range(2, spec.HeldOutSeeds).Select(s => Train(m.Name, graph, s)).ToList();
            return new HeldOutMember(m.Name, m.Program, runs.Average(r => r.EvalAccuracy));
        }).ToList();
        return new GssnnPopulationResult(spec, baseline, baseline.Average(r => r.EvalAccuracy), p90, min, rounds,
            new PopulationHeldOut(heldOut, heldOut.Average(h => h.Eval)));
    }

    /// <summary>Best training accuracy first; ties by the order of sampling.</summary>
    static IEnumerable<PopulationMember> ByTraining(IEnumerable<PopulationMember> members) =>
        members.OrderByDescending(m => m.Result.TrainAccuracy).ThenBy(m => int.Parse(m.Name["program".Length..],
            System.Globalization.CultureInfo.InvariantCulture));

    public static PopulationRound Read(int round, IReadOnlyList<PopulationMember> members, double baselineP90, double baselineMin)
    {
        var eval = members.Select(m => m.Result.EvalAccuracy).ToArray();
        return new PopulationRound(round, members, eval.Average(), eval.Min(), eval.Max(), members.Average(m => m.Result.TrainAccuracy),
            eval.Count(e => e > baselineP90), eval.Count(e => e < baselineMin));
    }
}
