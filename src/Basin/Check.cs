namespace Basin;

/// <summary>The checks settings get when a component is built; each throws <see cref="OptionException"/> naming the setting.</summary>
public static class Check
{
    /// <summary>A finite number ≥ 0.</summary>
    public static double NonNegative(double x, string name) =>
        x >= 0 && double.IsFinite(x) ? x : throw new OptionException(name, $"{name} must be a finite number ≥ 0, got {x}");

    /// <summary>A finite number &gt; 0.</summary>
    public static double Positive(double x, string name) =>
        x > 0 && double.IsFinite(x) ? x : throw new OptionException(name, $"{name} must be a finite number > 0, got {x}");

    /// <summary>A number in [0, 1).</summary>
    public static double Fraction(double x, string name) =>
        x >= 0 && x < 1 ? x : throw new OptionException(name, $"{name} must be in [0, 1), got {x}");

    /// <summary>An integer ≥ <paramref name="min"/>.</summary>
    public static long AtLeast(long x, long min, string name) =>
        x >= min ? x : throw new OptionException(name, $"{name} must be at least {min}, got {x}");

    /// <summary>An integer ≥ <paramref name="min"/>.</summary>
    public static int AtLeast(int x, int min, string name) =>
        x >= min ? x : throw new OptionException(name, $"{name} must be at least {min}, got {x}");

    /// <summary>One of <paramref name="choices"/> (compared ignoring case and surrounding blanks); returns it as listed.</summary>
    public static string OneOf(string? x, IReadOnlyList<string> choices, string name) =>
        choices.FirstOrDefault(c => string.Equals(c, x?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new OptionException(name, $"{name} must be one of {string.Join(", ", choices)}, got '{x}'");
}
