namespace Basin.Landscape;

/// <summary>
/// The loss barrier along a path t ∈ [0, 1] between two solutions, both ways it is defined in the literature:
/// <see cref="Max"/> = max_t L(t) − max(L(0), L(1)) (a bump above the higher end point) and <see cref="Chord"/> =
/// max_t [L(t) − ((1 − t)L(0) + tL(1))] (the excess over the chord, as in "Linear Mode Connectivity and the Lottery Ticket
/// Hypothesis", Frankle et al. 2020). They differ when the end losses differ. <see cref="PeakT"/> is where the chord excess peaks.
/// NaN when any loss on [0, 1] is NaN.
/// </summary>
public sealed record LossBarrier(double Max, double Chord, double PeakT)
{
    /// <summary>The barrier of the samples (t_i, L_i) with t_i in [0, 1]; the samples must include t = 0 and t = 1.</summary>
    public static LossBarrier Of(IReadOnlyList<double> ts, IReadOnlyList<double> losses)
    {
        if (ts.Count != losses.Count) throw new BasinException($"{ts.Count} values of t for {losses.Count} losses");
        int i0 = IndexOf(ts, 0), i1 = IndexOf(ts, 1);
        double l0 = losses[i0], l1 = losses[i1];
        double peak = double.NegativeInfinity, chord = double.NegativeInfinity, peakT = 0;
        bool nan = false;
        for (int i = 0; i < ts.Count; i++)
        {
            double t = ts[i];
            if (t < 0 || t > 1) continue;
            if (double.IsNaN(losses[i])) { nan = true; continue; }
            peak = Math.Max(peak, losses[i]);
            double excess = losses[i] - ((1 - t) * l0 + t * l1);
            if (excess > chord) (chord, peakT) = (excess, t);
        }
        if (nan || double.IsNaN(l0) || double.IsNaN(l1)) return new LossBarrier(double.NaN, double.NaN, double.NaN);
        return new LossBarrier(peak - Math.Max(l0, l1), chord, peakT);
    }

    static int IndexOf(IReadOnlyList<double> ts, double t)
    {
        for (int i = 0; i < ts.Count; i++) if (ts[i] == t) return i;
        throw new BasinException($"a barrier needs the loss at t = {t}; the path's values of t do not include it");
    }
}
