using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Symbolic;
using Basin.IO;
using Basin.Symbolic;
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
        var task = new Option<string>("--task") { Description = "Few-shot task: shirt (hard) or footwear (easy)",
            DefaultValueFactory = _ => D.Bench.Task };
        var length = new Option<int>("--program-length") { Description = "Operations per sampled program",
            DefaultValueFactory = _ => D.Bench.ProgramLength };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run (batch 8, Adam 1e-3)",
            DefaultValueFactory = _ => D.Bench.Schedule.Epochs };
        var noPlateau = new Option<bool>("--no-plateau") { Description = "Keep the learning rate constant" };
        var embeddingScale = new Option<double>("--embedding-scale") { Description = "Factor on the module's fixed element embedding",
            DefaultValueFactory = _ => D.Bench.Module.EmbeddingScale };
        var dimension = new Option<int>("--dimension") { Description = "Feature dimension D of the encoder",
            DefaultValueFactory = _ => D.Bench.Dimension };
        var trainCount = new Option<int>("--train-count") { Description = "Training examples (balanced, even)",
            DefaultValueFactory = _ => D.Bench.TrainCount };
        var evalCount = new Option<int>("--eval-count") { Description = "Evaluation examples (balanced, even, from the test split)",
            DefaultValueFactory = _ => D.Bench.EvalCount };
        var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST IDX files (default: searched)" };
        var output = new Option<string?>("--out") { Description = "Also write the full result as JSON to this file" };
        var json = Options.Json();
        var threads = Options.Threads();
        var runs = Options.Runs();
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue an interrupted population run (its settings are the run's; finished trainings are kept)",
        };
        var cmd = new Command("population", """
            The paper's population loop without its library learning: sample --size programs and train each once; every
            round keep the better half by training accuracy and refill with new programs; report each round against the
            plain encoder's seeds (mean, min, max; how many above its 90th percentile, how many below its minimum), then
            train the final top quarter again on fresh seeds.
            Example: basin gssnn population --size 16 --rounds 4 --embedding-scale 0.1 --threads 1
            """)
        {
            size, rounds, heldOut, baselineSeeds, task, length, epochs, noPlateau, embeddingScale, dimension, trainCount, evalCount, data,
            output, json, threads, runs, resume,
        };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            var spec = new GssnnPopulationSpec
            {
                Size = pr.GetValue(size),
                Rounds = pr.GetValue(rounds),
                HeldOutSeeds = pr.GetValue(heldOut),
                Bench = new GssnnStudySpec
                {
                    Programs = 0,
                    Controls = false,
                    BaselineSeeds = pr.GetValue(baselineSeeds),
                    Task = pr.GetValue(task)!,
                    ProgramLength = pr.GetValue(length),
                    Dimension = pr.GetValue(dimension),
                    TrainCount = pr.GetValue(trainCount),
                    EvalCount = pr.GetValue(evalCount),
                    DataPath = pr.GetValue(data),
                    Schedule = new FewShotSchedule { Epochs = pr.GetValue(epochs), Plateau = !pr.GetValue(noPlateau) },
                    Module = new GraphModuleOptions { EmbeddingScale = pr.GetValue(embeddingScale) },
                    Threads = Threads.FromOption(pr.GetValue(threads)),
                },
            };
            using var store = RunStore.Open(pr.GetValue(runs)!);
            if (pr.GetValue(resume) is { } earlier)
                spec = GssnnJob.StoredSpec<GssnnPopulationSpec>(store, earlier) is var stored
                    ? stored with { Bench = stored.Bench with { Threads = spec.Bench.Threads } } : spec;
            var (id, result) = GssnnJob.Population(spec, store, pr.GetValue(resume), GssnnCommand.ProgressLines(asJson), ct);
            if (!asJson) Console.WriteLine($"run {id}");
            if (pr.GetValue(output) is { } file) AtomicFile.WriteAllText(file, Json.Serialize(result));
            if (asJson) Console.WriteLine(Json.Serialize(result));
            else Render(result);
            return Cli.ExitOk;
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
