namespace Basin.Training;

/// <summary>
/// Halves (by <see cref="Factor"/>) the learning rate when a monitored value stops falling, as torch's
/// ReduceLROnPlateau does in "min" mode with a relative threshold: a value counts as better when it is below
/// best·(1 − <see cref="Threshold"/>); after more than <see cref="Patience"/> steps without a better value the rate
/// is multiplied by <see cref="Factor"/> and <see cref="Cooldown"/> steps follow in which nothing is counted.
/// </summary>
public sealed class ReduceOnPlateau
{
    public ReduceOnPlateau(double learningRate, double factor = 0.5, int patience = 50, double threshold = 1e-4, int cooldown = 15)
    {
        LearningRate = Check.Positive(learningRate, nameof(learningRate));
        if (!(factor > 0 && factor < 1)) throw new OptionException(nameof(factor), $"{nameof(factor)} must be in (0, 1), got {factor}");
        Patience = Check.AtLeast(patience, 0, nameof(patience));
        Threshold = Check.NonNegative(threshold, nameof(threshold));
        Cooldown = Check.AtLeast(cooldown, 0, nameof(cooldown));
        Factor = factor;
    }

    public double LearningRate { get; private set; }
    public double Factor { get; }
    public int Patience { get; }
    public double Threshold { get; }
    public int Cooldown { get; }

    double best = double.PositiveInfinity;
    int bad, cooling;

    /// <summary>Records one value of the monitored quantity; returns the learning rate to use next.</summary>
    public double Step(double value)
    {
        if (value < best * (1 - Threshold)) { best = value; bad = 0; }
        else bad++;
        if (cooling > 0) { cooling--; bad = 0; }
        if (bad > Patience)
        {
            LearningRate *= Factor;
            cooling = Cooldown;
            bad = 0;
        }
        return LearningRate;
    }
}
