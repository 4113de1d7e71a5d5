namespace Basin.Runs;

/// <summary>
/// Settings under which a chosen training method cannot take effect, found before the run starts so that a command can
/// say so. Such a run is valid (it is not refused), but it trains exactly as if the method had not been chosen.
/// </summary>
public static class MethodWarnings
{
    /// <summary>One sentence per method of <paramref name="spec"/> that cannot act within its epochs; none for bad
    /// options (the run refuses those with its own error).</summary>
    public static IReadOnlyList<string> For(TrainJobSpec spec)
    {
        var methods = spec.Method.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries);
        var warnings = new List<string>();
        if (!methods.Contains("saf") && !methods.Contains("mesa")) return warnings;
        try { TrainingJob.RecipeFor(spec); }   // checks every method option; a bad one is the run's error, not a warning
        catch (BasinException) { return warnings; }
        int start = TrainingJob.SafStart(spec);
        string run = spec.Epochs == 1 ? "1 epoch" : $"{spec.Epochs} epochs";
        // SAF compares epoch e with epoch e − Ẽ, from epoch max(start, Ẽ) on (0-based); MESA acts from its start epoch.
        int safFirst = Math.Max(start, spec.SafLag) + 1;
        if (methods.Contains("saf") && spec.Epochs < safFirst)
            warnings.Add($"SAF cannot take effect: it compares each example's logits with those of {spec.SafLag} epoch(s) earlier " +
                $"(--saf-lag) from epoch {safFirst} on (--saf-start {start}), and the run has {run}, so it trains as if SAF were " +
                $"not chosen; use at least {safFirst} epochs, or a smaller --saf-lag or --saf-start");
        if (methods.Contains("mesa") && spec.Epochs < start + 1)
            warnings.Add($"MESA cannot take effect: its term starts at epoch {start + 1} (--saf-start {start}), and the run has {run}, " +
                "so it trains as if MESA were not chosen; use a smaller --saf-start or more epochs");
        return warnings;
    }
}
