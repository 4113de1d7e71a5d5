using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Basin.Tests.Packaging;

/// <summary>
/// A new user's first program: a fresh console project outside the repository references the Basin package that the
/// build packed into .basin/packages (a local feed), compiles the README's "From C#" example unchanged, and runs it.
/// Offline: the only package source is that feed; every other package comes from the NuGet cache the repository's
/// own restore filled (as a fallback folder, so nothing is copied into the cache). About 1 minute on 2 cores: it
/// runs alone, after the parallel tests, so that its build and training do not compete with them.
/// </summary>
[Collection(Name)]
public class PackageConsumerTests(ITestOutputHelper output)
{
    const string GlibcxxVersion = "GLIBCXX_3.4.32";
    public const string Name = "fresh console project";

    [Fact]
    public void ReadmeExampleRunsInAFreshConsoleProjectThatReferencesThePackage()
    {
        var version = PackageVersion();
        var nupkg = Path.Combine(Repository.Root(), ".basin", "packages", $"Basin.{version}.nupkg");
        Assert.True(File.Exists(nupkg), $"the build did not pack {nupkg}");

        var dir = Path.Combine(Path.GetTempPath(), "basin-consumer-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var feed = Directory.CreateDirectory(Path.Combine(dir, "feed")).FullName;
            var app = Directory.CreateDirectory(Path.Combine(dir, "app")).FullName;
            File.Copy(nupkg, Path.Combine(feed, Path.GetFileName(nupkg)));
            File.WriteAllText(Path.Combine(dir, "NuGet.Config"), NuGetConfig(NuGetCache()));
            File.WriteAllText(Path.Combine(app, "Consumer.csproj"), ConsumerProject(version));
            File.WriteAllText(Path.Combine(app, "Program.cs"), Repository.ReadmeCSharpExample());

            var sw = Stopwatch.StartNew();
            var build = Dotnet(app, TimeSpan.FromMinutes(10), "build", "-c", "Release", "--disable-build-servers", "-nologo",
                "-p:NuGetAudit=false");
            output.WriteLine($"build: {sw.Elapsed.TotalSeconds:F0} s");
            Assert.True(build.ExitCode == 0, "the consumer project did not build:\n" + build.Output);
            if (!SystemLibstdcxxDefines(GlibcxxVersion))
                Assert.Contains($"Basin: marked {GlibcxxVersion} weak", build.Output);

            sw.Restart();
            var run = Dotnet(app, TimeSpan.FromMinutes(10), Path.Combine(app, "bin", "Release", "net10.0", "Consumer.dll"));
            output.WriteLine($"run: {sw.Elapsed.TotalSeconds:F0} s\n{run.Output}");
            Assert.True(run.ExitCode == 0, $"the README example exited with {run.ExitCode}:\n" + run.Output);

            // The example prints the final test accuracy and accuracy gap of LeNet-5 after 2 epochs on 5,000 images.
            var m = Regex.Match(run.Output, @"^test accuracy (\d+[.,]\d{3}), accuracy gap (-?\d+[.,]\d{3})$", RegexOptions.Multiline);
            Assert.True(m.Success, "unexpected output:\n" + run.Output);
            double accuracy = Parse(m.Groups[1].Value), gap = Parse(m.Groups[2].Value);
            Assert.InRange(accuracy, 0.6, 1.0);   // chance is 0.1; this recipe reaches 0.722 with 2 threads
            Assert.InRange(gap, -0.1, 0.2);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The package version the build stamped on Basin.dll (Directory.Build.props: Version).</summary>
    internal static string PackageVersion()
    {
        var info = typeof(Basin.Training.Trainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        return info.Split('+')[0];
    }

    internal static string NuGetCache() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    static string NuGetConfig(string cache) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config><add key="globalPackagesFolder" value="packages" /></config>
          <packageSources><clear /><add key="basin-local" value="feed" /></packageSources>
          <fallbackPackageFolders><clear /><add key="cache" value="{cache}" /></fallbackPackageFolders>
        </configuration>
        """;

    static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Basin" Version="{version}" />
          </ItemGroup>
        </Project>
        """;

    static double Parse(string s) => double.Parse(s.Replace(',', '.'), CultureInfo.InvariantCulture);

    static bool SystemLibstdcxxDefines(string version)
    {
        var lib = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        if (lib is null) return true;
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        return File.ReadAllBytes(lib).AsSpan().IndexOf(needle) >= 0;
    }

    internal sealed record Result(int ExitCode, string Output);

    /// <summary>Runs dotnet with the environment a user's shell would have: none of the test host's MSBuild variables.</summary>
    internal static Result Dotnet(string workDir, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key is "DOTNET_HOST_PATH" or "NUGET_PACKAGES")
                psi.Environment.Remove(key);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in {timeout}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>The package test's collection: not run in parallel with any other test.</summary>
[CollectionDefinition(PackageConsumerTests.Name, DisableParallelization = true)]
public sealed class PackageConsumerCollection;
