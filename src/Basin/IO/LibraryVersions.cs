using Basin.Experiments;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Basin.IO;

/// <summary>The versions a run depended on, stored with every run record.</summary>
public static class LibraryVersions
{
    public static IReadOnlyDictionary<string, string> Current() => new Dictionary<string, string>
    {
        ["basin"] = Version(typeof(LibraryVersions).Assembly),
        ["torchsharp"] = Version(typeof(TorchSharp.torch).Assembly),
        ["libtorch"] = "2.10.0",
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["os"] = RuntimeInformation.OSDescription,
        ["mkl_dispatch"] = $"{Native.MklCpuDispatch.Status} ({Native.MklCpuDispatch.Detail})",
        ["threads"] = TorchSharp.torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    static string Version(Assembly a) =>
        a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? a.GetName().Version?.ToString() ?? "unknown";
}
