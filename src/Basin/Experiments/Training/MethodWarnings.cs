using Basin.Experiments;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.IO;
using Basin.Training.Methods;

namespace Basin.Experiments.Training;

/// <summary>
/// Settings under which a chosen training method cannot take effect (or is known to fail), found before the run starts so
/// that a command can say so. Such a run is valid (it is not refused).
/// </summary>
public static class MethodWarnings
{
    /// <summary>One sentence per method of <paramref name="spec"/> that cannot act within its epochs; none for bad
    /// options (the run refuses those with its own error).</summary>
    public static IReadOnlyList<string> For(TrainJobSpec spec)
    {
        var warnings = new List<string>();
        Basin.Training.Recipe recipe;
        try { recipe = TrainingJob.RecipeFor(spec); }   // checks every method setting; a bad one is the run's error, not a warning
        catch (BasinException) { return warnings; }
        string run = spec.Epochs == 1 ? "1 epoch" : $"{spec.Epochs} epochs";
        // SAF compares epoch e with epoch e − Ẽ, from epoch max(start, Ẽ) on (0-based); MESA acts from its start epoch.
        if (recipe.Objective.OfType<Saf>().FirstOrDefault() is { } saf && spec.Epochs < Math.Max(saf.StartEpoch, saf.Lag) + 1)
        {
            int first = Math.Max(saf.StartEpoch, saf.Lag) + 1;
            warnings.Add($"SAF cannot take effect: it compares each example's logits with those of {saf.Lag} epoch(s) earlier " +
                $"(--saf-lag) from epoch {first} on (--saf-start {saf.StartEpoch}), and the run has {run}, so it trains as if SAF were " +
                $"not chosen; use at least {first} epochs, or a smaller --saf-lag or --saf-start");
        }
        if (recipe.Objective.OfType<Mesa>().FirstOrDefault() is { } mesa && spec.Epochs < mesa.StartEpoch + 1)
            warnings.Add($"MESA cannot take effect: its term starts at epoch {mesa.StartEpoch + 1} (--saf-start {mesa.StartEpoch}), " +
                $"and the run has {run}, so it trains as if MESA were not chosen; use a smaller --saf-start or more epochs");
        if (recipe.Update is Basin.Pruning.EdgePopup { Scaled: false })
            warnings.Add("edge-popup with --popup-scaled false keeps the model's own initialization and biases: the kept " +
                "sub-network's signal can be too small to learn (LeNet-5 stayed at chance); the default, the paper's scaled " +
                "initialization, avoids it");
        return warnings;
    }
}
