using System.Runtime.CompilerServices;

/// <summary>
/// A .NET startup hook (DOTNET_STARTUP_HOOKS=Basin.Tests.dll) that the GC-pressure stress test puts into a `basin`
/// subprocess: a background thread allocates and forces a full collection with pending finalizers every
/// BASIN_TEST_GC_STRESS_MS milliseconds, so an object that libtorch still uses but .NET no longer references is
/// finalized during the native call. It uses nothing but the runtime itself.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("BASIN_TEST_GC_STRESS_MS"), out var ms) || ms < 0) return;
        var thread = new Thread(() =>
        {
            while (true)
            {
                _ = new byte[4096];
                GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
                if (ms > 0) Thread.Sleep(ms);
            }
        }) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Touch() { }
}
