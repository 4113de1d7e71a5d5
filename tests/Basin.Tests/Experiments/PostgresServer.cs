using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Basin.Tests.Experiments;

/// <summary>
/// A private PostgreSQL server for the tests: initdb in a temporary folder, a free port on 127.0.0.1 only, its socket in
/// that folder; stopped by its PID (fast shutdown) and removed on Dispose. As root the server runs as the postgres user
/// (PostgreSQL refuses to run as root). ./test.sh installs Debian's postgresql when root and missing.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    readonly string folder;
    readonly int pid;
    int databases;

    public PostgresServer()
    {
        var bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no initdb): run ./test.sh as root, or apt-get install postgresql");
        folder = Directory.CreateTempSubdirectory("basin-pg-").FullName;
        bool root = Environment.UserName == "root";
        if (root) Run("chown", ["postgres:postgres", folder]);
        var data = Path.Combine(folder, "data");
        RunAs(root, Path.Combine(bin, "initdb"), ["-D", data, "-U", "basin", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        Port = FreePort();
        RunAs(root, Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o",
            $"-c listen_addresses=127.0.0.1 -p {Port} -k {folder} -c fsync=off -c full_page_writes=off -c max_connections=60",
            "start"]);
        pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First());
    }

    public int Port { get; }

    /// <summary>A URL of the server's maintenance database (user basin, no password: trust on 127.0.0.1).</summary>
    public string AdminUrl => $"postgresql://basin@127.0.0.1:{Port}/postgres";

    /// <summary>Creates a new, empty database and returns its URL.</summary>
    public string NewDatabase()
    {
        var name = $"t{Interlocked.Increment(ref databases)}_{Guid.NewGuid():N}"[..20];
        using var db = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=basin;Database=postgres;Pooling=false");
        db.Open();
        using var cmd = new NpgsqlCommand($"CREATE DATABASE {name};", db);
        cmd.ExecuteNonQuery();
        return $"postgresql://basin@127.0.0.1:{Port}/{name}";
    }

    /// <summary>Runs SQL on a database of this server (for tests that change what Basin wrote).</summary>
    public void Execute(string url, string sql)
    {
        var (builder, _) = Basin.Experiments.PostgresRunDatabase.Parse(url);
        using var db = new NpgsqlConnection(builder.ConnectionString);
        db.Open();
        using var cmd = new NpgsqlCommand(sql, db);
        cmd.ExecuteNonQuery();
    }

    static string? FindBin()
    {
        var versions = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [];
        return versions.Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault();
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    static void RunAs(bool root, string program, string[] args)
    {
        if (root) Run("runuser", ["-u", "postgres", "--", program, .. args]);
        else Run(program, args);
    }

    static void Run(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {error}{output.Result}");
    }

    public void Dispose()
    {
        try
        {
            Run("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);   // fast shutdown
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && Alive(pid)) Thread.Sleep(100);
            if (Alive(pid)) Run("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool Alive(int pid) => Directory.Exists($"/proc/{pid}");
}
