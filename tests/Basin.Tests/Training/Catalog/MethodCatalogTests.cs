using Basin.Training.Catalog;
using Xunit;

namespace Basin.Tests.Training.Catalog;

public class MethodCatalogTests
{
    [Fact]
    public void EveryEntryInTheAssemblyIsFoundOnceInItsListingOrder()
    {
        Assert.Equal(["sgd", "sam", "asam", "fam", "saf", "mesa", "sgld", "winsorized", "m3", "rm3", "edge-popup"], MethodCatalog.Names);
        var entryTypes = typeof(MethodEntry).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(MethodEntry)) && !t.IsAbstract);
        Assert.Equal(entryTypes.Count(), MethodCatalog.Entries.Select(e => e.GetType()).Distinct().Count());
        Assert.Equal(MethodCatalog.Names.Count, MethodCatalog.Names.Distinct().Count());
    }

    [Fact]
    public void EachEntryIsDeclaredInTheFileOfItsMethod()
    {
        // A new method is one file: its entry sits in the same source file as the pieces it builds (MethodCatalog.cs holds
        // only plain SGD, which builds nothing).
        var root = Packaging.Repository.Root();
        var sources = Directory.GetFiles(Path.Combine(root, "src", "Basin"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToArray();
        foreach (var entry in MethodCatalog.Entries.Where(e => e.Name != "sgd"))
        {
            var declaring = sources.Where(f => File.ReadAllText(f).Contains($"class {entry.GetType().Name} : MethodEntry")).ToList();
            Assert.Single(declaring);
            Assert.NotEqual("MethodCatalog.cs", Path.GetFileName(declaring[0]));
        }
    }
}
