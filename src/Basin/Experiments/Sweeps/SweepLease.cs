namespace Basin.Experiments.Sweeps;

/// <summary>
/// How long a worker's claim on a sweep point lasts without renewal, how often the worker renews it, and how many claims
/// a point gets before it is marked failed (a point whose workers keep dying, e.g. one that runs out of memory).
/// </summary>
public sealed record SweepLease
{
    public static SweepLease Default { get; } = new();

    /// <summary>A point whose worker stopped renewing for this long is claimed again.</summary>
    public TimeSpan Duration { get; init => field = value > TimeSpan.Zero ? value
        : throw new OptionException("lease", $"lease must be a positive duration, got {value}"); } = TimeSpan.FromMinutes(2);

    /// <summary>Claims of one point before it is marked failed.</summary>
    public int MaxAttempts { get; init => field = Check.AtLeast(value, 1, "maxAttempts"); } = 3;

    /// <summary>A quarter of the lease: three renewals can fail before the lease ends.</summary>
    public TimeSpan RenewEvery => Duration / 4;
}
