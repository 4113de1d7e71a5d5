namespace Basin.Training;

/// <summary>
/// The clock a schedule reads: <see cref="Step"/> is the 0-based index of the update about to be
/// made, <see cref="StepsPerEpoch"/> and <see cref="TotalSteps"/> describe the whole run.
/// </summary>
public readonly record struct ScheduleClock(long Step, long StepsPerEpoch, long TotalSteps)
{
    public long Epoch => Step / StepsPerEpoch;
}

/// <summary>A learning rate as a pure function of the base rate and the step; evaluated before every update.</summary>
public interface ILearningRateSchedule
{
    double At(double baseRate, ScheduleClock clock);
}

/// <summary>The base rate throughout.</summary>
public sealed record ConstantSchedule : ILearningRateSchedule
{
    public double At(double baseRate, ScheduleClock clock) => baseRate;
    public override string ToString() => "constant";
}

/// <summary>The base rate times <see cref="Gamma"/> once every <see cref="EveryEpochs"/> epochs (torch's StepLR, per epoch).</summary>
public sealed record StepSchedule(double Gamma, int EveryEpochs) : ILearningRateSchedule
{
    public double Gamma { get; init; } = Check.NonNegative(Gamma, "stepGamma");
    public int EveryEpochs { get; init; } = Check.AtLeast(EveryEpochs, 1, "stepEpochs");

    public double At(double baseRate, ScheduleClock clock) => baseRate * Math.Pow(Gamma, clock.Epoch / EveryEpochs);

    public override string ToString() => $"step(×{Gamma} every {EveryEpochs} epochs)";
}

/// <summary>
/// Cosine annealing over the whole run, per step ("SGDR: Stochastic Gradient Descent with Warm Restarts",
/// without restarts): floor + (base − floor)·(1 + cos(π·t/T))/2, which reaches <see cref="Floor"/> after the last step.
/// </summary>
public sealed record CosineSchedule(double Floor = 0) : ILearningRateSchedule
{
    public double Floor { get; init; } = Check.NonNegative(Floor, "floor");

    public double At(double baseRate, ScheduleClock clock) =>
        Floor + (baseRate - Floor) * (1 + Math.Cos(Math.PI * clock.Step / clock.TotalSteps)) / 2;

    public override string ToString() => Floor == 0 ? "cosine" : $"cosine(floor {Floor})";
}

/// <summary>
/// Linear warm-up for the first <see cref="Steps"/> updates, multiplying <see cref="Then"/>'s rate by
/// (t+1)/W (so the first update is not wasted at rate 0); from update W on it is <see cref="Then"/>'s rate.
/// <see cref="Then"/> reads the run's own clock, so warm-up composes with any schedule without shifting it.
/// </summary>
public sealed record WarmupSchedule(int Steps, ILearningRateSchedule Then) : ILearningRateSchedule
{
    public int Steps { get; init; } = Check.AtLeast(Steps, 0, "warmupSteps");
    public ILearningRateSchedule Then { get; init; } = Then ?? throw new ArgumentNullException(nameof(Then));

    public double At(double baseRate, ScheduleClock clock)
    {
        double rate = Then.At(baseRate, clock);
        return clock.Step < Steps ? rate * (clock.Step + 1) / Steps : rate;
    }

    public override string ToString() => $"warmup({Steps} steps) then {Then}";
}
