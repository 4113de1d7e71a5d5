using System.Globalization;
using System.Text.RegularExpressions;
using Basin.Experiments.Training;
using Basin.Tests.Cli;
using Basin.Tests.Packaging;
using Basin.Training.Catalog;
using Xunit;

namespace Basin.Tests.Docs;

/// <summary>
/// Figures the docs and the help state (sizes, defaults, recipes) equal what the code does: the demo's sizes and recipe
/// in the README, docs/methods.md and the help; every method option's default in docs/methods.md's table.
/// </summary>
public class DocumentedFiguresTests
{
    static string Read(string relative) =>
        Regex.Replace(File.ReadAllText(Path.Combine(Repository.Root(), relative)), @"\s+", " ");   // prose wraps anywhere

    static string Match(string text, string pattern, string where)
    {
        var m = Regex.Match(text, pattern);
        Assert.True(m.Success, $"{where} no longer says /{pattern}/");
        return m.Groups[1].Value;
    }

    static long Number(string text) => long.Parse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    static double Real(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    static readonly TrainJobSpec Sgd = Demo.Specs()[0];

    /// <summary>"SGD, SAM, FAM and SAF" for the demo's methods.</summary>
    static string MethodList(IReadOnlyList<string> methods) =>
        string.Join(", ", methods.Take(methods.Count - 1).Select(m => m.ToUpperInvariant())) + " and " + methods[^1].ToUpperInvariant();

    [Fact]
    public void TheReadmeStatesTheDemosSizesAndRecipe()
    {
        var readme = Read("README.md");
        const string where = "README's demo section";
        Assert.Equal(Demo.DefaultSamples,
            Number(Match(readme, @"trains LeNet-5 on the first ([\d,]+) Fashion-MNIST training images", where)));
        Assert.Equal(Demo.DefaultEpochs, Number(Match(readme, @"Fashion-MNIST training images for (\d+) epochs", where)));
        Assert.Equal(Demo.DefaultTestSamples, Number(Match(readme, @"evaluates on the first ([\d,]+) test images", where)));
        Assert.Equal(Demo.GeometrySamples, Number(Match(readme, @"\(""Tr H head W"", ""λ_max head W""; bias not included\), on ([\d,]+) " +
            "training images", where)));
        Assert.Equal(Sgd.LearningRate, Real(Match(readme, @"base recipe \(SGD, learning rate ([\d.]+),", where)));
        Assert.Equal(Sgd.Momentum, Real(Match(readme, @"learning rate [\d.]+, momentum ([\d.]+),", where)));
        Assert.Equal(Sgd.BatchSize, Number(Match(readme, @"momentum [\d.]+, batch (\d+)\)", where)));
        Assert.Equal("SGD, SAM, FAM and SAF", MethodList(Demo.Methods));
        Assert.Contains("four methods — plain SGD, SAM, FAM and SAF — from the same seed", readme);
        Assert.Equal(4, Demo.Methods.Length);
        Assert.Equal("lenet5", Sgd.Model);
    }

    [Fact]
    public void MethodsMdStatesTheDemosSizesAndRecipe()
    {
        var methods = Read("docs/methods.md");
        const string where = "docs/methods.md's demo section";
        Assert.Equal(Demo.DefaultSamples, Number(Match(methods, @"first ([\d,]+) training and [\d,]+ test images by default", where)));
        Assert.Equal(Demo.DefaultTestSamples, Number(Match(methods, @"first [\d,]+ training and ([\d,]+) test images by default", where)));
        Assert.Equal(Sgd.Momentum, Real(Match(methods, @"base recipe \(SGD, momentum ([\d.]+), lr", where)));
        Assert.Equal(Sgd.LearningRate, Real(Match(methods, @"momentum [\d.]+, lr ([\d.]+), batch", where)));
        Assert.Equal(Sgd.BatchSize, Number(Match(methods, @"lr [\d.]+, batch (\d+), \d+ epochs", where)));
        Assert.Equal(Demo.DefaultEpochs, Number(Match(methods, @"batch \d+, (\d+) epochs", where)));
        Assert.Equal(Demo.GeometrySamples, Number(Match(methods, @"trained head on the first ([\d,]+) training images", where)));
        Assert.Contains($"trains LeNet-5 with {MethodList(Demo.Methods)} on the same Fashion-MNIST subset", methods);
        // "SAF with Ẽ = 1 from epoch 1"
        var saf = Demo.Specs().Single(s => s.Method == "saf");
        Assert.Equal(saf.Settings["safLag"].GetInt32(), (int)Number(Match(methods, @"SAF with Ẽ = (\d+) from epoch \d+", where)));
        Assert.Equal(saf.Settings["safStart"].GetInt32(), (int)Number(Match(methods, @"SAF with Ẽ = \d+ from epoch (\d+)", where)));
    }

    [Fact]
    public void TheHelpStatesTheDemosMethodsAndRecipe()
    {
        var dir = CliRunner.TempDir();
        var root = CliRunner.Run(dir, null, "--help");
        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.Contains($"Start with './basin demo' (trains LeNet-5 on Fashion-MNIST with {MethodList(Demo.Methods)} and prints a table)",
            Regex.Replace(root.Stdout, @"\s+", " "));
        var demo = CliRunner.Run(dir, null, "demo", "--help");
        Assert.True(demo.ExitCode == 0, demo.ToString());
        var help = Regex.Replace(demo.Stdout, @"\s+", " ");
        var inv = CultureInfo.InvariantCulture;
        Assert.Contains($"Train LeNet-5 on the same Fashion-MNIST subset and seed with {MethodList(Demo.Methods)} (base recipe: SGD, " +
            $"momentum {Sgd.Momentum.ToString(inv)}, lr {Sgd.LearningRate.ToString(inv)})", help);
        foreach (var (flag, value) in new[] { ("--samples", $"default {Demo.DefaultSamples}"), ("--test-samples",
            $"default {Demo.DefaultTestSamples}"), ("--epochs", $"default: {Demo.DefaultEpochs}"), ("--methods",
            $"default: {string.Join(' ', Demo.Methods)}"), ("--model", $"default: {Sgd.Model}") })
            Assert.Matches($@"{flag} <{flag[2..]}> [^<]*?[\[(]{Regex.Escape(value)}[\])]", help);
    }

    /// <summary>"`--rho` (0.05)" pairs in one method's row of docs/methods.md's table.</summary>
    static readonly Regex OptionDefault = new(@"`(--[a-z-]+)` \(([^()]*(?:\([^()]*\)[^()]*)*)\)", RegexOptions.Compiled);

    [Fact]
    public void MethodsMdTableStatesEveryOptionsCatalogDefault()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root(), "docs", "methods.md"));
        int checkedDefaults = 0;
        foreach (var entry in MethodCatalog.Entries.Where(e => e.Settings.Count > 0))
        {
            var row = lines.SingleOrDefault(l => l.StartsWith($"| `{entry.Name}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/methods.md has no table row for {entry.Name}");
            var documented = OptionDefault.Matches(row!).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            foreach (var setting in entry.Settings)
            {
                // Every setting is named in its method's row; a documented default is the catalog's, word for word.
                Assert.True(row!.Contains($"`{setting.Flag}`", StringComparison.Ordinal),
                    $"{entry.Name}: {setting.Flag} is not in its row");
                if (!documented.TryGetValue(setting.Flag, out var text)) continue;
                Assert.True(text == setting.DefaultText,
                    $"{entry.Name} {setting.Flag}: docs say ({text}), the catalog ({setting.DefaultText})");
                checkedDefaults++;
            }
        }
        Assert.True(checkedDefaults >= 15, $"only {checkedDefaults} defaults were checked");
    }
}
