namespace Basin.Native;

/// <summary>
/// glibc malloc settings for Basin's processes, given to glibc through the GLIBC_TUNABLES environment variable, which
/// it reads only at process start. (They cannot be applied from inside a running process: <c>mallopt</c> at that
/// point reaches neither the per-thread arenas already made nor thresholds above 32 MiB, and measured no gain.)
///
/// Why: libtorch frees and re-allocates its activation buffers every step, and evaluation batches allocate blocks
/// above glibc's default mmap threshold. With the defaults every such block is a fresh mmap that the kernel faults in
/// page by page and munmap returns on free; per-thread arenas create and delete 64 MiB heaps the same way. On the
/// 2-core development VM this cost as much time as the arithmetic (LeNet-5, 16 epochs on 2000 images, one thread:
/// 10–11 s wall, 4–5.6 s of it system time, 2.5–3.5 million page faults; with these settings 5.5–5.8 s wall, 0.3 s
/// system time, 0.1 million faults; bench/RESULTS.md).
///
/// The settings: one malloc arena (no per-thread heaps), blocks up to 256 MiB from the heap instead of mmap, and the
/// heap top returned to the kernel only above 1 GiB. The cost: a process keeps the memory it used at its peak.
/// <c>./basin</c> and <c>./test.sh</c> export this value (scripts/malloc-env.sh) unless GLIBC_TUNABLES is already
/// set; <c>basin sweep run</c> passes it to its worker processes. Programs that host Basin can set it the same way
/// before they start.
/// </summary>
public static class MallocTunables
{
    public const string Variable = "GLIBC_TUNABLES";

    public const string Value = "glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824";

    /// <summary>The value a child process should get: the current one when the user set it, else Basin's.</summary>
    public static string ForChild() => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } own ? own : Value;
}
