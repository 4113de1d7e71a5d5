using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Basin.Native;

/// <summary>
/// libtorch's CPU build links Intel oneMKL, whose dispatcher runs its slowest generic x86-64 / AVX2
/// kernels on non-Intel processors even when they support AVX-512: on an AMD EPYC this halves the speed
/// of every matrix multiply (measured: SGEMM 128×784×512 takes 1.04 ms instead of 0.48 ms).
/// MKL asks one exported function, <c>mkl_serv_intel_cpu_true</c>, whether the processor is Intel; the
/// widely used remedy is to make it answer yes, after which MKL picks kernels by the CPU's actual
/// feature flags (CPUID), so a processor without AVX-512 still gets AVX2 kernels.
///
/// Basin applies that remedy in-process, once, when the library loads: on Linux x86-64 with an AMD
/// processor, it overwrites the first bytes of that function in the loaded libtorch_cpu.so with
/// "mov eax, 1; ret". Nothing on disk changes. Set BASIN_MKL_DISPATCH=off to keep MKL's own choice.
/// </summary>
public static class MklCpuDispatch
{
    public enum State { NotApplicable, Disabled, Patched, AlreadyIntel, Failed }

    static readonly byte[] ReturnOne = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];
    static readonly object Gate = new();
    static State? _state;

    /// <summary>What was done (applies the remedy on first use).</summary>
    public static State Status
    {
        get
        {
            lock (Gate) return _state ??= Apply();
        }
    }

    /// <summary>Why the state is what it is, for run records and diagnostics.</summary>
    public static string Detail { get; private set; } = "";

    // A library module initializer on purpose: the fix must be in place before the first matrix product,
    // whichever Basin or TorchSharp call comes first.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void OnLoad()
    {
        try { _ = Status; }
        catch (Exception e) when (e is not OutOfMemoryException) { Detail = e.Message; }
    }

    static State Apply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return Set(State.NotApplicable, "not Linux x86-64");
        if (Environment.GetEnvironmentVariable("BASIN_MKL_DISPATCH") is { } v && v.Equals("off", StringComparison.OrdinalIgnoreCase))
            return Set(State.Disabled, "BASIN_MKL_DISPATCH=off");
        string vendor = CpuVendor();
        if (vendor != "AuthenticAMD") return Set(State.NotApplicable, $"CPU vendor {vendor}");

        // Make sure libtorch (and with it MKL) is loaded, without running a matrix product.
        _ = TorchSharp.torch.get_num_threads();
        var path = LoadedLibraryPath("libtorch_cpu.so");
        if (path is null) return Set(State.Failed, "libtorch_cpu.so is not loaded");
        var handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
        if (handle == 0) return Set(State.Failed, "dlopen(libtorch_cpu.so) failed");
        try
        {
            var fn = dlsym(handle, "mkl_serv_intel_cpu_true");
            if (fn == 0) return Set(State.Failed, "mkl_serv_intel_cpu_true not found");
            unsafe
            {
                var code = new Span<byte>((void*)fn, ReturnOne.Length);
                if (code.SequenceEqual(ReturnOne)) return Set(State.Patched, "already patched");
                long pageSize = Environment.SystemPageSize;
                nint start = (nint)(fn & ~(pageSize - 1));
                long length = (long)fn + ReturnOne.Length - start;
                if (mprotect(start, (nuint)length, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
                    return Set(State.Failed, "mprotect refused to make the code writable");
                ReturnOne.CopyTo(code);
                mprotect(start, (nuint)length, PROT_READ | PROT_EXEC);
            }
            return Set(State.Patched, "MKL dispatches by CPU features");
        }
        finally
        {
            dlclose(handle);
        }
    }

    static State Set(State s, string detail)
    {
        Detail = detail;
        return s;
    }

    static string CpuVendor()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("vendor_id", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return "unknown";
    }

    static string? LoadedLibraryPath(string fileName)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            var p = line[slash..];
            if (Path.GetFileName(p) == fileName) return p;
        }
        return null;
    }

    const int RTLD_NOW = 0x2, RTLD_NOLOAD = 0x4;
    const int PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4;

    [DllImport("libc", EntryPoint = "dlopen")] static extern nint dlopen(string path, int flags);
    [DllImport("libc", EntryPoint = "dlsym")] static extern nint dlsym(nint handle, string name);
    [DllImport("libc", EntryPoint = "dlclose")] static extern int dlclose(nint handle);
    [DllImport("libc", EntryPoint = "mprotect", SetLastError = true)] static extern int mprotect(nint addr, nuint len, int prot);
}
