using System.CommandLine;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;

namespace Basin.Cli.Commands;

/// <summary>
/// The WGAN training-loop options shared by `gan train` and `gan compare` (iterations, critic steps and warm-up, batch,
/// optimizer and learning rate, toy MLP widths), each with the defaults of the command's spec, mapped onto
/// <see cref="GanJobSpec"/> or <see cref="GanComparisonSpec"/>.
/// </summary>
public sealed class GanLoopOptions
{
    GanLoopOptions(int iterations, int criticSteps, int warmupIterations, int warmupCriticSteps, int batchSize, string optimizer)
    {
        Iterations = new("--iterations") { Description = "Generator iterations", DefaultValueFactory = _ => iterations };
        CriticSteps = new("--critic-steps") { Description = "Critic steps per generator step", DefaultValueFactory = _ => criticSteps };
        Warmup = new("--warmup") { Description = "Generator iterations with --warmup-critic-steps critic steps (0: none)",
            DefaultValueFactory = _ => warmupIterations };
        WarmupCriticSteps = new("--warmup-critic-steps") { Description = "Critic steps per generator step during the warm-up",
            DefaultValueFactory = _ => warmupCriticSteps };
        BatchSize = new("--batch-size") { Description = "Real and fake samples per step", DefaultValueFactory = _ => batchSize };
        Optimizer = new("--optimizer") { Description = "rmsprop (lr 5e-5) or adam (lr 1e-4, β 0.5, 0.9)",
            DefaultValueFactory = _ => optimizer };
    }

    /// <summary>The options with `gan train`'s defaults.</summary>
    public static GanLoopOptions For(GanJobSpec d) => new(d.Iterations, d.CriticSteps, d.WarmupIterations, d.WarmupCriticSteps, d.BatchSize,
        d.Optimizer);

    /// <summary>The options with `gan compare`'s defaults.</summary>
    public static GanLoopOptions For(GanComparisonSpec d) => new(d.Iterations, d.CriticSteps, d.WarmupIterations, d.WarmupCriticSteps,
        d.BatchSize, d.Optimizer);

    public Option<int> Iterations { get; }
    public Option<int> CriticSteps { get; }
    public Option<int> Warmup { get; }
    public Option<int> WarmupCriticSteps { get; }
    public Option<int> BatchSize { get; }
    public Option<string> Optimizer { get; }
    public Option<double?> Lr { get; } = new("--lr") { Description = "Learning rate (default: the optimizer's)" };
    public Option<string?> Hidden { get; } = new("--hidden") { Description = "Toy MLP hidden widths, e.g. 512,512,512 (default)" };

    public GanJobSpec Apply(GanJobSpec spec, ParseResult p) => spec with
    {
        Iterations = p.GetValue(Iterations), CriticSteps = p.GetValue(CriticSteps), WarmupIterations = p.GetValue(Warmup),
        WarmupCriticSteps = p.GetValue(WarmupCriticSteps), BatchSize = p.GetValue(BatchSize), Optimizer = p.GetValue(Optimizer)!,
        LearningRate = p.GetValue(Lr), Hidden = GanCommand.ParseInts(p.GetValue(Hidden), "--hidden"),
    };

    public GanComparisonSpec Apply(GanComparisonSpec spec, ParseResult p) => spec with
    {
        Iterations = p.GetValue(Iterations), CriticSteps = p.GetValue(CriticSteps), WarmupIterations = p.GetValue(Warmup),
        WarmupCriticSteps = p.GetValue(WarmupCriticSteps), BatchSize = p.GetValue(BatchSize), Optimizer = p.GetValue(Optimizer)!,
        LearningRate = p.GetValue(Lr), Hidden = GanCommand.ParseInts(p.GetValue(Hidden), "--hidden"),
    };
}
