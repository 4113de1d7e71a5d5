using Basin.Models;
using Basin.Training;

namespace Basin.Pruning;

/// <summary>What the weights become after a round's pruning step, before the round trains.</summary>
public enum Rewind
{
    /// <summary>Back to the rewind point θ_k (θ₀ or an early epoch) times the mask: lottery-ticket weight rewinding.</summary>
    Weights,
    /// <summary>The trained weights times the mask; the round replays the whole learning-rate schedule (learning-rate rewinding).</summary>
    LearningRate,
}

/// <summary>
/// Iterative magnitude pruning: <see cref="Rounds"/> rounds, each removing <see cref="RatePercent"/> % of the alive masked
/// weights (global ranking, or per layer), optionally with AP taking <see cref="ApRatePercent"/> % of them (global only).
/// The settings are checked when built.
/// </summary>
public sealed record IterativeSettings(int Rounds, double RatePercent = 20, double? ApRatePercent = null, Rewind Rewind = Rewind.Weights,
    bool Layerwise = false)
{
    public int Rounds { get; init; } = Check.AtLeast(Rounds, 1, "rounds");
    public double RatePercent { get; init; } = MagnitudePruning.CheckRate(RatePercent, "rate");
    public double? ApRatePercent { get; init; } = CheckAp(ApRatePercent, RatePercent, Layerwise);

    static double? CheckAp(double? ap, double rate, bool layerwise)
    {
        if (ap is { } q && !(q > 0 && q < rate))
            throw new OptionException("apRate", $"apRate must be a percentage in (0, rate) = (0, {rate}), got {q}");
        if (ap is not null && layerwise) throw new OptionException("layerwise", "layerwise: AP ranks globally; it cannot be " +
            "combined with layer-wise pruning");
        return ap;
    }
}

/// <summary>One round after its pruning step and rewind, before training: the mask to train with (owned by the loop).</summary>
public sealed record PruningRoundStart(int Round, PruningMask Mask, SparsityReport Sparsity, ApRoundCounts? Ap);

/// <summary>
/// The loop of iterative pruning ("The Lottery Ticket Hypothesis", Frankle &amp; Carbin 2019; learning-rate rewinding from
/// "Comparing Rewinding and Fine-tuning in Neural Network Pruning", Renda et al. 2020). The model comes in trained, with
/// <paramref name="roundStart"/> the weights its training started from. Per round: prune from the trained weights
/// (magnitude, or magnitude + AP with movement measured from the round's start), rewind, and call
/// <paramref name="train"/>, which trains the model with the round's mask kept applied (<see cref="MaskedUpdate"/>).
/// A series continued after round k − 1 passes <paramref name="firstRound"/> = k, that round's trained weights in the
/// model, its mask as <paramref name="initial"/> and the weights it started from as <paramref name="roundStart"/>.
/// </summary>
public static class IterativePruning
{
    public static void Run(Classifier model, PruningMask initial, WeightSnapshot roundStart, WeightSnapshot? rewindPoint,
        IterativeSettings settings, Action<PruningRoundStart> train, CancellationToken ct = default, int firstRound = 1)
    {
        if (firstRound < 1 || firstRound > settings.Rounds)
            throw new BasinException($"the first round must be in 1..{settings.Rounds}, got {firstRound}");
        if (settings.Rewind == Rewind.Weights && rewindPoint is null) throw new BasinException("weight rewinding needs a " +
            "rewind point (θ₀ or θ_k)");
        var mask = initial.Clone();
        var start = roundStart;
        WeightSnapshot? owned = null;
        try
        {
            for (int round = firstRound; round <= settings.Rounds; round++)
            {
                ct.ThrowIfCancellationRequested();
                var parameters = NamedParameter.Of(model);
                ApRoundCounts? ap = null;
                PruningMask next;
                if (settings.ApRatePercent is { } q)
                    (next, ap) = ActivatePruning.Round(mask, parameters, start.State, settings.RatePercent, q);
                else
                    next = MagnitudePruning.Round(mask, parameters, settings.RatePercent, settings.Layerwise);
                mask.Dispose();
                mask = next;
                if (settings.Rewind == Rewind.Weights) rewindPoint!.CopyInto(model);
                mask.ApplyTo(model);
                owned?.Dispose();
                owned = WeightSnapshot.OfState(model);
                start = owned;
                train(new PruningRoundStart(round, mask, mask.Sparsity(), ap));
            }
        }
        finally
        {
            mask.Dispose();
            owned?.Dispose();
        }
    }
}
