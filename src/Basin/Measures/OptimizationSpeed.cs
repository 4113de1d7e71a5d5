namespace Basin.Measures;

/// <summary>
/// Optimization speed (Jiang et al. 2020): the number of updates until the evaluated training loss first reaches
/// the target, read from the run's per-epoch metrics (so resolved to epoch ends); +∞ if it never did.
/// </summary>
public static class OptimizationSpeed
{
    public static double StepsToLoss(IReadOnlyList<CurvePoint> curve, double target)
    {
        if (curve.Count == 0) throw new BasinException("steps-to-loss needs the run's training curve (per-epoch metrics)");
        foreach (var p in curve.OrderBy(p => p.Steps))
            if (p.TrainLoss <= target) return p.Steps;
        return double.PositiveInfinity;
    }
}
