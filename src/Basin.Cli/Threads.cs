namespace Basin.Cli;

public static class Threads
{
    /// <summary>--threads 0 means libtorch's default (all cores).</summary>
    public static int? FromOption(int value) => value switch
    {
        0 => null,
        < 0 => throw new BasinException($"--threads must be ≥ 0, got {value}"),
        _ => value,
    };
}
