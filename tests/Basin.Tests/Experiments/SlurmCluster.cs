using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Basin.Tests.Experiments;

/// <summary>
/// A private one-node SLURM cluster for the tests: munged with a key and socket of its own, slurmctld and slurmd on
/// 127.0.0.1 with free ports and every file (state, spool, logs, PID files) in a temporary folder. Commands reach it
/// through <see cref="Environment"/> (SLURM_CONF). Every daemon is stopped by its PID file on Dispose.
/// ./test.sh installs Debian's slurm-wlm when root and missing.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlurmCluster : IDisposable
{
    public const string NodeName = "basinnode";
    readonly string folder;

    public SlurmCluster()
    {
        foreach (var program in new[] { "munged", "slurmctld", "slurmd", "sbatch" })
            if (Which(program) is null)
                throw new InvalidOperationException($"SLURM is not installed (no {program}): run ./test.sh as root, or apt-get install slurm-wlm");
        folder = Directory.CreateTempSubdirectory("basin-slurm-").FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(Path.Combine(folder, "state"));
        Directory.CreateDirectory(Path.Combine(folder, "spool"));
        var key = Path.Combine(folder, "munge.key");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        Socket = Path.Combine(folder, "munge.socket");
        Run("munged", ["--force", $"--socket={Socket}", $"--key-file={key}", $"--pid-file={Pid("munged")}",
            $"--log-file={Path.Combine(folder, "munged.log")}", $"--seed-file={Path.Combine(folder, "munged.seed")}"]);
        int controller = FreePort(), node = FreePort();
        var user = System.Environment.UserName;
        var config = Path.Combine(folder, "slurm.conf");
        File.WriteAllText(config, $"""
            ClusterName=basintest
            SlurmctldHost=localhost(127.0.0.1)
            SlurmctldPort={controller}
            SlurmdPort={node}
            SlurmUser={user}
            SlurmdUser={user}
            AuthType=auth/munge
            AuthInfo=socket={Socket}
            CredType=cred/munge
            StateSaveLocation={folder}/state
            SlurmdSpoolDir={folder}/spool
            SlurmctldPidFile={Pid("slurmctld")}
            SlurmdPidFile={Pid("slurmd")}
            SlurmctldLogFile={folder}/slurmctld.log
            SlurmdLogFile={folder}/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SchedulerType=sched/backfill
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            ReturnToService=2
            MpiDefault=none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            NodeName={NodeName} NodeAddr=127.0.0.1 NodeHostname={System.Environment.MachineName} CPUs={System.Environment.ProcessorCount} RealMemory=1000 State=UNKNOWN
            PartitionName=basin Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
            """);
        Environment = new Dictionary<string, string> { ["SLURM_CONF"] = config };
        Run("slurmctld", []);
        Run("slurmd", ["-N", NodeName]);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Capture("sinfo", ["-h", "-o", "%T"]).Trim() != "idle")
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException("the test SLURM cluster did not become idle: " + Log("slurmctld") + Log("slurmd"));
            Thread.Sleep(200);
        }
    }

    /// <summary>What a command needs to reach this cluster (SLURM_CONF).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public string Socket { get; }

    string Pid(string daemon) => Path.Combine(folder, daemon + ".pid");

    string Log(string daemon) => File.Exists(Path.Combine(folder, daemon + ".log"))
        ? $"\n{daemon}: " + string.Join('\n', File.ReadLines(Path.Combine(folder, daemon + ".log")).TakeLast(5)) : "";

    /// <summary>Runs a SLURM client command against this cluster and returns its stdout.</summary>
    public string Capture(string program, IEnumerable<string> args)
    {
        var (code, output, error) = Exec(program, args);
        if (code != 0) throw new InvalidOperationException($"{program} failed ({code}): {error}");
        return output;
    }

    void Run(string program, IEnumerable<string> args)
    {
        var (code, _, error) = Exec(program, args);
        if (code != 0) throw new InvalidOperationException($"{program} failed ({code}): {error}{Log(program)}");
    }

    (int Code, string Output, string Error) Exec(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (Environment is not null) foreach (var (k, v) in Environment) psi.Environment[k] = v;
        else psi.Environment["SLURM_CONF"] = Path.Combine(folder, "slurm.conf");
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error);
    }

    static string? Which(string program) =>
        (System.Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            foreach (var daemon in new[] { "slurmd", "slurmctld", "munged" })
            {
                var path = Pid(daemon);
                if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), out var pid)) continue;
                Exec("kill", [Format(pid)]);                            // SIGTERM: each daemon shuts down cleanly
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (Running(pid) && DateTime.UtcNow < deadline) Thread.Sleep(100);
                if (Running(pid)) Exec("kill", ["-KILL", Format(pid)]);
            }
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Whether a process runs (a zombie, dead but not yet reaped, does not).</summary>
    static bool Running(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1] is var rest && rest.Length > 0 && rest[0] is not ('Z' or 'X'); }
        catch (IOException) { return false; }
    }

    public override string ToString() => folder;

    internal static string Format(int n) => n.ToString(CultureInfo.InvariantCulture);
}
