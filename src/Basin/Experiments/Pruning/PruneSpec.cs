using System.Text.Json.Serialization;

namespace Basin.Experiments.Pruning;

/// <summary>
/// A pruning job on a finished training run (<see cref="SourceRun"/>): one-shot (magnitude, random, node: to
/// <see cref="Sparsity"/>) or iterative (imp, imp+ap: <see cref="Rounds"/> rounds of <see cref="Rate"/> %). Each round
/// trains <see cref="Epochs"/> epochs (the source run's count when null; 0 prunes and evaluates only) with the source
/// run's recipe, data, batch size and seed, the mask kept applied, and is recorded as one run of kind "prune".
/// </summary>
public sealed record PruneSpec
{
    public static readonly IReadOnlyList<string> Methods = ["magnitude", "random", "node", "imp", "imp+ap"];
    public static readonly IReadOnlyList<string> Rewinds = ["init", "lr", "epoch:K"];

    public required string SourceRun { get; init; }
    public string Method { get; init; } = "imp";
    /// <summary>One-shot methods: the fraction of prunable weights (node: of hidden units) to remove, in [0, 1).</summary>
    public double? Sparsity { get; init; }
    /// <summary>
    /// random: prune as many weights per layer as this prune run's mask does (the random control at IMP's per-layer
    /// density), instead of <see cref="Sparsity"/> in every layer.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LikeRun { get; init; }
    /// <summary>Iterative methods: the number of rounds.</summary>
    public int? Rounds { get; init; }
    /// <summary>Iterative methods: the percentage of the alive weights each round removes.</summary>
    public double Rate { get; init; } = 20;
    /// <summary>imp+ap: the percentage (of the alive weights) AP removes among the negative ones that moved least.</summary>
    public double ApRate { get; init; } = 2;
    /// <summary>
    /// init: alive weights go back to the source run's initialization θ₀ before each round trains (lottery tickets);
    /// epoch:K: back to θ_K, the weights after the source run's first K epochs (replayed; "Stabilizing the Lottery
    /// Ticket Hypothesis", Frankle et al. 2019); lr: they keep their trained values and the round replays the whole
    /// learning-rate schedule (fine-tuning, learning-rate rewinding). Null: init for random, imp and imp+ap; lr for
    /// magnitude and node.
    /// </summary>
    public string? Rewind { get; init; }
    public int? Epochs { get; init; }
    /// <summary>Rank magnitudes per layer instead of over all prunable weights together (magnitude, imp).</summary>
    public bool Layerwise { get; init; }
    /// <summary>Prune the output layer's weights too (they are prunable by default).</summary>
    public bool PruneHead { get; init; } = true;
    /// <summary>Seed of random masks; the source run's seed when null.</summary>
    public long? Seed { get; init; }
    /// <summary>The dead-neuron rate is measured on the first this many training examples.</summary>
    public int DnrSamples { get; init; } = 1000;
    /// <summary>Also draw test accuracy and DNR against sparsity into this PNG file (<see cref="PrunePlot"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Png { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Tags { get; init; }

    [JsonIgnore] public bool Iterative => Method is "imp" or "imp+ap";
    [JsonIgnore] public string EffectiveRewind => Rewind ?? (Method is "magnitude" or "node" ? "lr" : "init");

    /// <summary>K of a rewind "epoch:K" (K ≥ 1), null for another rewind; a malformed K is an OptionException.</summary>
    public static int? RewindEpoch(string? rewind)
    {
        if (rewind is null || !rewind.Trim().StartsWith("epoch:", StringComparison.OrdinalIgnoreCase)) return null;
        var text = rewind.Trim()["epoch:".Length..];
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k)
            && k >= 1
            ? k
            : throw new OptionException("--rewind", $"--rewind epoch:K needs a whole number of epochs K ≥ 1, got '{text}'");
    }

    /// <summary>Checks everything that does not need the run or the data; throws OptionException naming the setting.</summary>
    public PruneSpec Validated()
    {
        var method = Check.OneOf(Method, Methods, "--method");
        var rewind = Rewind is null ? null : RewindEpoch(Rewind) is { } k ? $"epoch:{k}" : Check.OneOf(Rewind, ["init", "lr"], "--rewind");
        var spec = this with { Method = method, Rewind = rewind };
        if (spec.Iterative)
        {
            if (Sparsity is not null) throw new OptionException("--sparsity", $"--method {method} prunes in rounds: give --rounds R (and " +
                "--rate P), not --sparsity");
            if (Rounds is null) throw new OptionException("--rounds", $"--method {method} needs --rounds R (and --rate P, default 20)");
            Check.AtLeast(Rounds.Value, 1, "--rounds");
            if (!(Rate > 0 && Rate < 100)) throw new OptionException("--rate", $"--rate must be a percentage in (0, 100), got {Rate}");
            if (method == "imp+ap" && !(ApRate > 0 && ApRate < Rate))
                throw new OptionException("--ap-rate", $"--ap-rate must be a percentage in (0, rate) = (0, {Rate}), got {ApRate}");
            if (method == "imp+ap" && Layerwise) throw new OptionException("--layerwise", "--layerwise: AP ranks globally; use it " +
                "with imp, not imp+ap");
        }
        else
        {
            if (Rounds is not null) throw new OptionException("--rounds", $"--method {method} prunes once: give " +
                "--sparsity S, not --rounds");
            if (LikeRun is not null && method != "random") throw new OptionException("--like", "--like applies to --method " +
                $"random, not {method}");
            if (LikeRun is not null && Sparsity is not null) throw new OptionException("--like", "give --sparsity or --like, not both");
            if (Sparsity is null && LikeRun is null) throw new OptionException("--sparsity", $"--method {method} needs --sparsity S, " +
                "a fraction in [0, 1)");
            if (Sparsity is { } s) Check.Fraction(s, "--sparsity");
            if (Layerwise && method != "magnitude") throw new OptionException("--layerwise", "--layerwise applies to magnitude " +
                $"and imp, not {method}");
        }
        if (Epochs is < 0) throw new OptionException("--epochs", $"--epochs must be at least 0, got {Epochs}");
        Check.AtLeast(DnrSamples, 1, "--dnr-samples");
        if (Name is { } n && (string.IsNullOrWhiteSpace(n) || n.Length > 100 || n.Any(char.IsControl)))
            throw new BasinException("--name must be one non-empty line of at most 100 characters");
        return spec;
    }
}
