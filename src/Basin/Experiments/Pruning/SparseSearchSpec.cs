using System.Text.Json.Serialization;

namespace Basin.Experiments.Pruning;

/// <summary>
/// Node random search on a finished training run (the dense parent: its model, data, recipe, seed and initialization θ₀):
/// for each node sparsity, <see cref="Candidates"/> random node masks are scored by <see cref="ScoreSteps"/> steps of
/// training from θ₀ ⊙ m (0: at θ₀ ⊙ m without training) and the <see cref="Score"/> on the first <see cref="ScoreSamples"/>
/// training examples; the best is trained with the full budget, as are <see cref="RandomMasks"/> random masks and the dense
/// parent (docs/pruning.md, "Node random search").
/// </summary>
public sealed record SparseSearchSpec
{
    public static readonly IReadOnlyList<string> Scores = ["loss", "accuracy"];

    public required string SourceRun { get; init; }
    /// <summary>Node sparsities: the fraction of every hidden layer's units removed, each in (0, 1).</summary>
    public IReadOnlyList<double> Sparsities { get; init; } = [0.5, 0.75, 0.9];
    public int Candidates { get; init; } = 20;
    public int RandomMasks { get; init; } = 5;
    public int ScoreSteps { get; init; } = 100;
    public int ScoreSamples { get; init; } = 2048;
    /// <summary>loss (lowest wins) or accuracy (highest wins), on the scoring examples after the short training.</summary>
    public string Score { get; init; } = "loss";
    /// <summary>Epochs of full training (the source run's when null).</summary>
    public int? Epochs { get; init; }
    /// <summary>Base seed of the masks (the source run's seed when null).</summary>
    public long? Seed { get; init; }
    /// <summary>Epochs to threshold: the first epoch whose train accuracy reaches this fraction of the dense parent's final
    /// train accuracy.</summary>
    public double Threshold { get; init; } = 0.95;
    public int Bootstrap { get; init; } = 10_000;
    /// <summary>Also train this many candidates spread over the score ranking fully, for Spearman(score, test accuracy)
    /// (0: none).</summary>
    public int Diagnostic { get; init; }
    /// <summary>Folder for result.json, the CSV tables and the PNG; none written when null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Out { get; init; }

    public SparseSearchSpec Validated()
    {
        if (Sparsities.Count == 0) throw new OptionException("--sparsities", "--sparsities needs at least one node sparsity");
        foreach (var s in Sparsities)
            if (!(s > 0 && s < 1))
                throw new OptionException("--sparsities", $"--sparsities: each node sparsity must be in (0, 1), got {s}");
        if (Sparsities.Distinct().Count() != Sparsities.Count)
            throw new OptionException("--sparsities", "--sparsities lists a value twice");
        Check.AtLeast(Candidates, 1, "--candidates");
        Check.AtLeast(RandomMasks, 1, "--random");
        Check.AtLeast(ScoreSteps, 0, "--score-steps");
        Check.AtLeast(ScoreSamples, 1, "--score-samples");
        Check.AtLeast(Bootstrap, 100, "--bootstrap");
        Check.AtLeast(Diagnostic, 0, "--diagnostic");
        if (Epochs is < 1) throw new OptionException("--epochs", $"--epochs must be at least 1, got {Epochs}");
        if (!(Threshold > 0 && Threshold <= 1)) throw new OptionException("--threshold", $"--threshold must be in (0, 1], got {Threshold}");
        return this with { Score = Check.OneOf(Score, Scores, "--score"), Sparsities = Sparsities.Order().ToArray() };
    }
}
