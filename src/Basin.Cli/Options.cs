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

    /// <summary>
    /// The run store of every command (recursive on the root): a PostgreSQL URL for sweeps over many machines; the runs'
    /// files stay in --runs. Sets $BASIN_STORE for the command and the workers it starts.
    /// </summary>
    public static Option<string?> Store { get; } = new("--store")
    {
        Description = "Run database on a PostgreSQL server, postgresql://USER:PASSWORD@HOST:PORT/DATABASE (default: $BASIN_STORE, "
            + "else basin.db in the runs folder)",
        Recursive = true,
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for libtorch (default: all cores)",
        DefaultValueFactory = _ => 0,
    };
}
