namespace Basin;

/// <summary>The checks settings get when a component is built; each throws <see cref="OptionException"/> naming the setting.</summary>
public static class Check
{
    /// <summary>A finite number ≥ 0.</summary>
    public static double NonNegative(double x, string name) =>
        x >= 0 && double.IsFinite(x) ? x : throw new OptionException($"{name} must be a finite number ≥ 0, got {x}");

    /// <summary>A finite number &gt; 0.</summary>
    public static double Positive(double x, string name) =>
        x > 0 && double.IsFinite(x) ? x : throw new OptionException($"{name} must be a finite number > 0, got {x}");

    /// <summary>An integer ≥ <paramref name="min"/>.</summary>
    public static int AtLeast(int x, int min, string name, string unit = "") =>
        x >= min ? x : throw new OptionException($"{name} must be at least {min}{unit}, got {x}");
}
