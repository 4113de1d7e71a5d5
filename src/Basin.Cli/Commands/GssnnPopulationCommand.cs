using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Symbolic;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gssnn population`: the paper's selection loop over sampled programs (Basin.Experiments.Symbolic).</summary>
public static class GssnnPopulationCommand
{
    static readonly GssnnPopulationSpec D = new();
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var size = new Option<int>("--size", "--programs") { Description = "Programs in the population",
            DefaultValueFactory = _ => D.Size };
        var rounds = new Option<int>("--rounds", "--iterations") { Description = "Rounds (each keeps the better half by training "
            + "accuracy)", DefaultValueFactory = _ => D.Rounds };
        var heldOut = new Option<int>("--held-out-seeds") { Description = "Fresh seeds for the final top quarter",
            DefaultValueFactory = _ => D.HeldOutSeeds };
        var baselineSeeds = new Option<int>("--baseline-seeds") { Description = "Seeds of the plain encoder",
            DefaultValueFactory = _ => D.Bench.BaselineSeeds };
        var bench = new GssnnBenchOptions("population");
        var cmd = new Command("population", """
            The paper's population loop without its library learning: sample --size programs and train each once; every
            round keep the better half by training accuracy and refill with new programs; report each round against the
            plain encoder's seeds (mean, min, max; how many above its 90th percentile, how many below its minimum), then
            train the final top quarter again on fresh seeds.
            Example: basin gssnn population --size 16 --rounds 4 --embedding-scale 0.1 --threads 1
            """)
        {
            size, rounds, heldOut, baselineSeeds,
        };
        foreach (var option in bench.All) cmd.Options.Add(option);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            var spec = new GssnnPopulationSpec
            {
                Size = pr.GetValue(size),
                Rounds = pr.GetValue(rounds),
                HeldOutSeeds = pr.GetValue(heldOut),
                Bench = bench.Bench(pr, pr.GetValue(baselineSeeds)) with { Programs = 0, Controls = false },
            };
            using var store = RunStore.Open(pr.GetValue(bench.Runs)!);
            if (pr.GetValue(bench.Resume) is { } earlier)
            {
                var stored = GssnnJob.StoredSpec<GssnnPopulationSpec>(store, earlier);
                spec = stored with { Bench = stored.Bench with { Threads = spec.Bench.Threads } };
            }
            var (id, result) = GssnnJob.Population(spec, store, pr.GetValue(bench.Resume),
                GssnnCommand.ProgressLines(pr.GetValue(bench.Json)), ct);
            return bench.Finish(pr, id, result, Render);
        }, ct));
        return cmd;
    }

    static void Render(GssnnPopulationResult r)
    {
        Console.WriteLine($"plain encoder ({r.Baseline.Count} seeds): eval mean {100 * r.BaselineMean:F1} %, 90th percentile "
            + $"{100 * r.BaselineP90:F1} %, minimum {100 * r.BaselineMin:F1} %");
        var table = new Table().AddColumns("round", "programs", "mean eval (%)", "min eval (%)", "max eval (%)", "mean train (%)",
            "> baseline p90", "< baseline min");
        foreach (var round in r.Rounds)
            table.AddRow(round.Round.ToString(Inv), round.Members.Count.ToString(Inv), (100 * round.MeanEval).ToString("F1", Inv),
                (100 * round.MinEval).ToString("F1", Inv), (100 * round.MaxEval).ToString("F1", Inv),
                (100 * round.MeanTrain).ToString("F1", Inv), round.AboveBaselineP90.ToString(Inv), round.BelowBaselineMin.ToString(Inv));
        AnsiConsole.Write(table);
        Console.WriteLine($"final top {r.HeldOut.Members.Count} by training accuracy, on fresh seeds: eval {100 * r.HeldOut.MeanEval:F1} % "
            + $"({string.Join(", ", r.HeldOut.Members.Select(m => $"{m.Name} {100 * m.Eval:F1}"))}) against the plain encoder's "
            + $"{100 * r.BaselineMean:F1} %");
    }
}
