using System.CommandLine;
using Basin.Experiments.Symbolic;
using Basin.IO;
using Basin.Symbolic;

namespace Basin.Cli.Commands;

/// <summary>
/// The options `gssnn study` and `gssnn population` share: the task, encoder, schedule and module of every training, the
/// data, the run database, resuming, and the output.
/// </summary>
sealed class GssnnBenchOptions(string runKind)
{
    static readonly GssnnStudySpec D = new();

    public Option<string> Task { get; } = new("--task")
    {
        Description = "Few-shot task: shirt (shirt vs T-shirt, pullover, coat; hard) or footwear (easy)",
        DefaultValueFactory = _ => D.Task,
    };
    public Option<int> ProgramLength { get; } = new("--program-length")
    {
        Description = "Operations per sampled program",
        DefaultValueFactory = _ => D.ProgramLength,
    };
    public Option<int> Dimension { get; } = new("--dimension")
    {
        Description = "Feature dimension D of the encoder",
        DefaultValueFactory = _ => D.Dimension,
    };
    public Option<int> Epochs { get; } = new("--epochs")
    {
        Description = "Epochs per run (batch 8, Adam 1e-3)",
        DefaultValueFactory = _ => D.Schedule.Epochs,
    };
    public Option<bool> NoPlateau { get; } = new("--no-plateau")
    {
        Description = "Keep the learning rate constant (the paper steps a plateau scheduler on every batch's loss)",
    };
    public Option<double> EmbeddingScale { get; } = new("--embedding-scale")
    {
        Description = "Factor on the module's fixed element embedding (1: the paper's, values in [−1, 1])",
        DefaultValueFactory = _ => D.Module.EmbeddingScale,
    };
    public Option<int> TrainCount { get; } = new("--train-count")
    {
        Description = "Training examples (balanced, even)",
        DefaultValueFactory = _ => D.TrainCount,
    };
    public Option<int> EvalCount { get; } = new("--eval-count")
    {
        Description = "Evaluation examples (balanced, even, from the test split)",
        DefaultValueFactory = _ => D.EvalCount,
    };
    public Option<string?> Data { get; } = new("--data") { Description = "Folder with the Fashion-MNIST IDX files (default: searched)" };
    public Option<string?> Output { get; } = new("--out") { Description = "Also write the full result as JSON to this file" };
    public Option<bool> Json { get; } = Options.Json();
    public Option<int> Threads { get; } = Options.Threads();
    public Option<string> Runs { get; } = Options.Runs();
    public Option<string?> Resume { get; } = new("--resume")
    {
        Description = $"Continue an interrupted {runKind} run (its settings are the run's; finished trainings are kept)",
    };

    public IEnumerable<Option> All =>
        [Task, ProgramLength, Dimension, Epochs, NoPlateau, EmbeddingScale, TrainCount, EvalCount, Data, Output, Json, Threads, Runs,
            Resume];

    /// <summary>The shared part of a study spec (no programs or controls yet: the command adds what it trains).</summary>
    public GssnnStudySpec Bench(ParseResult pr, int baselineSeeds) => new()
    {
        BaselineSeeds = baselineSeeds,
        Task = pr.GetValue(Task)!,
        ProgramLength = pr.GetValue(ProgramLength),
        Dimension = pr.GetValue(Dimension),
        TrainCount = pr.GetValue(TrainCount),
        EvalCount = pr.GetValue(EvalCount),
        DataPath = pr.GetValue(Data),
        Schedule = new FewShotSchedule { Epochs = pr.GetValue(Epochs), Plateau = !pr.GetValue(NoPlateau) },
        Module = new GraphModuleOptions { EmbeddingScale = pr.GetValue(EmbeddingScale) },
        Threads = global::Basin.Cli.Threads.FromOption(pr.GetValue(Threads)),
    };

    /// <summary>Prints the run id, writes --out, and prints the result as JSON or by <paramref name="render"/>.</summary>
    public int Finish<T>(ParseResult pr, string runId, T result, Action<T> render)
    {
        bool asJson = pr.GetValue(Json);
        if (!asJson) Console.WriteLine($"run {runId}");
        if (pr.GetValue(Output) is { } file) AtomicFile.WriteAllText(file, Basin.IO.Json.Serialize(result));
        if (asJson) Console.WriteLine(Basin.IO.Json.Serialize(result));
        else render(result);
        return Cli.ExitOk;
    }
}
