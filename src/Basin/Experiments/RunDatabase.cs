namespace Basin.Experiments;

/// <summary>
/// The run database: RUNS/basin.db in the runs folder (SQLite, one machine), or a PostgreSQL server named by a URL
/// (<see cref="StoreVariable"/> or <c>--store</c>; many machines sharing the runs folder). The one owner of every table of
/// runs and sweeps, opened through <see cref="IRunDatabase"/>. One schema version covers all tables; a database from a
/// newer Basin is refused.
/// </summary>
public static class RunDatabase
{
    /// <summary>
    /// The schema this Basin writes. 1: runs and epochs (the locks, sweep_points and run_measures tables were added in
    /// place without a new version). 2: all five tables, under one version. 3: leases on sweep points (lease_until,
    /// attempts). An older database is migrated on open.
    /// </summary>
    public const int SchemaVersion = 3;

    /// <summary>The database's file name in a runs folder.</summary>
    public const string FileName = "basin.db";

    /// <summary>The environment variable naming the run store when no store is given (a postgresql:// URL).</summary>
    public const string StoreVariable = "BASIN_STORE";

    /// <summary>
    /// Opens (creating or migrating if needed) the run database of the runs folder <paramref name="folder"/>: the PostgreSQL
    /// server <paramref name="store"/> (or <see cref="StoreVariable"/>'s) names, else RUNS/basin.db.
    /// </summary>
    public static IRunDatabase Open(string folder, string? store = null)
    {
        store ??= Environment.GetEnvironmentVariable(StoreVariable);
        if (string.IsNullOrWhiteSpace(store)) return SqliteRunDatabase.Open(folder);
        Directory.CreateDirectory(folder);   // the runs' files stay in the folder
        return PostgresRunDatabase.Open(store);
    }
}
