using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Native;

/// <summary>
/// The native-Scalar lifetime race under GC pressure, end to end: `basin` runs as a subprocess with a tiny gen-0 budget
/// (DOTNET_GCgen0size) and a startup hook (<see cref="StartupHook"/>, from this test assembly) whose thread forces full
/// collections and finalizers back to back. Any Scalar that libtorch reads after .NET dropped it is then freed mid-call:
/// before the fix these runs aborted with "Unknown scalar type" (exit 134) within seconds.
/// </summary>
public class GcPressureCliTests
{
    static Dictionary<string, string> Stress() => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "Basin.Tests.dll"),
        ["BASIN_TEST_GC_STRESS_MS"] = "0",
        ["DOTNET_GCgen0size"] = "0x10000",
    };

    [Fact]
    public void SamWithWeightDecayTrainsUnderConstantCollections()
    {
        var dir = CliRunner.TempDir();
        // Batch size 1: 1,500 updates, each with a dozen scalar operations (SAM's ascent, the decay term, the update).
        var r = CliRunner.RunWithTimeout(dir, Stress(), TimeSpan.FromMinutes(3), "train", "--dataset", "moons", "--model", "mlp:4",
            "--method", "sam", "--weight-decay", "0.001", "--samples", "1500", "--test-samples", "10", "--batch-size", "1",
            "--epochs", "1", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
