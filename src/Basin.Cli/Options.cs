using System.CommandLine;

namespace Basin.Cli;

/// <summary>Options that several commands share, so they read the same everywhere.</summary>
public static class Options
{
    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON on stdout instead of tables" };

    public static Option<string> Runs() => new("--runs")
    {
        Description = "Runs folder holding the run database basin.db (default: $BASIN_RUNS or ./runs)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BASIN_RUNS") is { Length: > 0 } r ? r : "runs",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for libtorch (default: all cores)",
        DefaultValueFactory = _ => 0,
    };
}
