using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Basin.Tests.Packaging;

/// <summary>
/// The `basin` .NET tool as a user outside the repository gets it: the CLI's sources (a copy, as a clone has them) are
/// packed as a tool into a local folder, `dotnet tool install --tool-path` installs it from there, and the installed
/// `basin` prints its help and version and trains a tiny model (so libtorch loads from the tool package). Offline: the
/// packages come from the NuGet cache the repository's own restore filled, and the only source is the local folder.
/// Runs alone, in the package test's collection; about 1–2 minutes and 1.5 GB of temporary disk on 2 cores.
/// </summary>
[Collection(PackageConsumerTests.Name)]
public class ToolPackageTests(ITestOutputHelper output)
{
    [Fact]
    public void ThePackedToolInstallsWithToolPathAndRunsOffline()
    {
        var version = PackageConsumerTests.PackageVersion();
        var dir = Path.Combine(Path.GetTempPath(), "basin-tool-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var clone = Path.Combine(dir, "clone");
            CopySources(Repository.Root(), clone);
            var feed = Path.Combine(dir, "feed");
            var config = Path.Combine(dir, "NuGet.Config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="packages" /></config>
                  <packageSources><clear /></packageSources>
                  <fallbackPackageFolders><clear /><add key="cache" value="{PackageConsumerTests.NuGetCache()}" /></fallbackPackageFolders>
                </configuration>
                """);

            var sw = Stopwatch.StartNew();
            var pack = PackageConsumerTests.Dotnet(clone, TimeSpan.FromMinutes(10), "pack", "src/Basin.Cli", "-c", "Release", "-o", feed,
                "--disable-build-servers", "-nologo", "-p:NuGetAudit=false");
            output.WriteLine($"pack: {sw.Elapsed.TotalSeconds:F0} s");
            Assert.True(pack.ExitCode == 0, "dotnet pack of the tool failed:\n" + pack.Output);
            // One small package that names the platform packages, and the Linux x64 one with the CLI and libtorch.
            Assert.True(File.Exists(Path.Combine(feed, $"Basin.Cli.{version}.nupkg")), pack.Output);
            Assert.True(new FileInfo(Path.Combine(feed, $"Basin.Cli.linux-x64.{version}.nupkg")).Length > 50_000_000, pack.Output);
            using (var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"Basin.Cli.{version}.nupkg")))
            using (var reader = new StreamReader(zip.Entries.Single(e => e.FullName == "Basin.Cli.nuspec").Open()))
                Assert.Contains("<license type=\"expression\">MIT</license>", reader.ReadToEnd());
            Directory.Delete(Path.Combine(clone, "src", "Basin.Cli", "bin"), recursive: true);   // the 0.5 GB publish folder

            sw.Restart();
            var tools = Path.Combine(dir, "tools");
            var install = PackageConsumerTests.Dotnet(dir, TimeSpan.FromMinutes(10), "tool", "install", "Basin.Cli", "--tool-path", tools,
                "--add-source", feed, "--configfile", config, "--version", version);
            output.WriteLine($"install: {sw.Elapsed.TotalSeconds:F0} s\n{install.Output}");
            Assert.True(install.ExitCode == 0, "dotnet tool install failed:\n" + install.Output);
            Assert.Contains($"Tool 'basin.cli' (version '{version}') was successfully installed.", install.Output);

            var basin = Path.Combine(tools, "basin");
            var help = Run(basin, dir, "--help");
            Assert.True(help.ExitCode == 0, help.Output);
            Assert.Contains("Basin: train neural networks that generalize, and measure why they do.", help.Output);
            Assert.Contains("Usage:\n  basin [command] [options]", help.Output.ReplaceLineEndings("\n"));
            foreach (var command in new[] { "demo", "train", "runs", "geometry", "reparametrize", "measures", "sweep", "gan" })
                Assert.Matches($@"(?m)^  {command}\b", help.Output);
            Assert.Equal(version, Run(basin, dir, "--version").Output.Trim());

            var train = Run(basin, dir, "train", "--dataset", "moons", "--model", "mlp:4", "--epochs", "1", "--threads", "1", "--json");
            Assert.True(train.ExitCode == 0, train.Output);
            using var doc = JsonDocument.Parse(train.Output);
            Assert.InRange(doc.RootElement.GetProperty("figures").GetProperty("trainAccuracy").GetDouble(), 0.0, 1.0);
            Assert.StartsWith(Path.Combine(dir, "runs"), doc.RootElement.GetProperty("runFolder").GetString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>What a clone holds for the CLI and the library: their sources, the build files, README and licence.</summary>
    static void CopySources(string root, string clone)
    {
        foreach (var project in new[] { "src/Basin", "src/Basin.Cli", "build" })
            CopyTree(Path.Combine(root, project), Path.Combine(clone, project));
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "README.md", "LICENSE" })
            if (File.Exists(Path.Combine(root, file))) File.Copy(Path.Combine(root, file), Path.Combine(clone, file));
    }

    static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
            CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    /// <summary>Runs the installed tool with its runs folder in <paramref name="dir"/>; stdout only.</summary>
    static PackageConsumerTests.Result Run(string basin, string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(basin) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["BASIN_RUNS"] = Path.Combine(dir, "runs");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), $"basin {string.Join(' ', args)} did not finish");
        p.WaitForExit();
        return new PackageConsumerTests.Result(p.ExitCode, p.ExitCode == 0 ? stdout.Result : stdout.Result + stderr.Result);
    }
}
