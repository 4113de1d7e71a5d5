namespace Basin.Experiments;

/// <summary>
/// The run database of a runs folder (RUNS/basin.db): the one owner of every table of runs and sweeps, opened through
/// <see cref="IRunDatabase"/>. One schema version covers all tables; a database from a newer Basin is refused.
/// </summary>
public static class RunDatabase
{
    /// <summary>
    /// The schema this Basin writes. 1: runs and epochs (the locks, sweep_points and run_measures tables were added in
    /// place without a new version). 2: all five tables, under one version; a version-1 database is migrated on open.
    /// </summary>
    public const int SchemaVersion = 2;

    /// <summary>The database's file name in a runs folder.</summary>
    public const string FileName = "basin.db";

    /// <summary>Opens (creating or migrating if needed) the run database in <paramref name="folder"/>.</summary>
    public static IRunDatabase Open(string folder) => SqliteRunDatabase.Open(folder);
}
