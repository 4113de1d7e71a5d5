using System.IO.Compression;
using System.Xml.Linq;
using Xunit;

namespace Basin.Tests.Packaging;

/// <summary>The repository states its licence (MIT, LICENSE at the root) and the package the build packs carries it.</summary>
public class LicenceTests
{
    [Fact]
    public void TheLicenceIsMitAtTheRootAndInThePackage()
    {
        var root = Repository.Root();
        var licence = File.ReadAllLines(Path.Combine(root, "LICENSE"));
        Assert.Equal("MIT License", licence[0]);
        Assert.Contains("Copyright (c) 2026 The Basin authors", licence);
        Assert.Contains(licence, l => l.StartsWith("THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND",
            StringComparison.Ordinal));
        Assert.Contains("MIT: see [LICENSE](LICENSE).", File.ReadAllText(Path.Combine(root, "README.md")));

        var nupkg = Path.Combine(root, ".basin", "packages", $"Basin.{PackageConsumerTests.PackageVersion()}.nupkg");
        Assert.True(File.Exists(nupkg), $"the build did not pack {nupkg}");
        using var zip = ZipFile.OpenRead(nupkg);
        var nuspec = zip.Entries.Single(e => e.FullName == "Basin.nuspec");
        using var stream = nuspec.Open();
        var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        var element = metadata.Elements().Single(e => e.Name.LocalName == "license");
        Assert.Equal("expression", element.Attribute("type")?.Value);
        Assert.Equal("MIT", element.Value);
        Assert.Equal("Copyright (c) 2026 The Basin authors", metadata.Elements().Single(e => e.Name.LocalName == "copyright").Value);
    }
}
