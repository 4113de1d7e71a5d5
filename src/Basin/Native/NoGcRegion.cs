using System.Runtime;

namespace Basin.Native;

/// <summary>
/// Runs code during which the garbage collector does not run. For TorchSharp calls that make native Scalars inside
/// TorchSharp, where Basin cannot keep them alive: a Scalar can only be finalized after a collection finds it, and
/// none happens inside the region, so none can be finalized while libtorch reads it.
/// </summary>
public static class NoGcRegion
{
    /// <summary>The managed memory the region allows; more ends it early (a collection then runs).</summary>
    const long Budget = 16L << 20;

    public static void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        bool started = false;
        try { started = GC.TryStartNoGCRegion(Budget); }
        catch (InvalidOperationException) { }   // already inside one: the outer region covers this call
        try { action(); }
        finally
        {
            if (started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }
}
