using System.Text.RegularExpressions;
using Basin.Cli;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>Tables read at 80–120 columns: columns are left out by importance (with a note), `--wide` shows all.</summary>
public class TableWidthCliTests
{
    static Dictionary<string, string> Columns(int n) => new() { ["COLUMNS"] = n.ToString() };

    static int Widest(string text) => text.Split('\n').Max(l => l.TrimEnd('\r').Length);

    [Fact]
    public void FittedTableLeavesOutTheLeastImportantColumnsFirst()
    {
        // Widths: a 5, b 10, c 10, d 20 (cell or header, whichever is wider) + 3 each + 1 border.
        var t = new FittedTable(new("a"), new("b", 1), new("c", 2), new("d", 2));
        t.AddRow("aaaaa", "bbbbbbbbbb", "cccccccccc", new string('d', 20));
        Assert.Equal([0, 1, 2, 3], t.Shown(58, wide: false));          // 5+10+10+20 + 12 + 1 = 58: all fit
        Assert.Equal([0, 1, 2], t.Shown(57, wide: false));             // the rightmost of the least important goes first
        Assert.Equal([0, 1], t.Shown(30, wide: false));
        Assert.Equal([0], t.Shown(10, wide: false));                   // importance 0 is never left out
        Assert.Equal([0, 1, 2, 3], t.Shown(10, wide: true));
        Assert.Throws<ArgumentException>(() => t.AddRow("only one"));
    }

    [Fact]
    public void ProseColumnsAreSqueezedBeforeAnyColumnIsLeftOut()
    {
        var t = new FittedTable(new("name"), new("text", 1, Prose: true));
        t.AddRow("x", new string('w', 200));
        Assert.Equal([0, 1], t.Shown(4 + 3 + FittedTable.MinProseWidth + 3 + 1, wide: false));
        Assert.Equal([0], t.Shown(4 + 3 + FittedTable.MinProseWidth + 3, wide: false));
    }

    [Theory]
    [InlineData(80)]
    [InlineData(100)]
    [InlineData(120)]
    public void MeasuresFitsTheWidthAndWideShowsEveryColumn(int width)
    {
        var r = CliRunner.Run(CliRunner.TempDir(), Columns(width), "measures");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(Widest(r.Stdout) <= width, $"wider than {width}:\n{r.Stdout}");
        Assert.Contains("│ measure", r.Stdout);
        Assert.Contains("definition", r.Stdout);
        Assert.Contains("│ relative-flatness ", r.Stdout);   // names never wrap
        Assert.Contains($"Left out to fit {width} columns:", r.Stdout);

        var wide = CliRunner.Run(CliRunner.TempDir(), Columns(width), "measures", "--wide");
        Assert.True(wide.ExitCode == 0, wide.ToString());
        foreach (var header in new[] { "measure", "definition", "reads", "init", "invariant under", "cost", "bound term (m examples)" })
            Assert.Contains(header, wide.Stdout);
        Assert.DoesNotContain("Left out", wide.Stdout);
        Assert.True(Widest(wide.Stdout) > 200);
    }

    [Fact]
    public void DemoTableReadsAt100ColumnsWithItsSettingInTheTitle()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var args = new[] { "demo", "--data", data, "--samples", "96", "--test-samples", "32", "--epochs", "1", "--methods", "sgd", "sam",
            "--model", "mlp:16", "--threads", "1", "--out", "report" };
        var r = CliRunner.Run(dir, Columns(100), args);
        Assert.True(r.ExitCode == 0, r.ToString());
        var table = r.Stdout[r.Stdout.IndexOf("Fashion-MNIST, mlp:16, 96 images, 1 epoch, seed 1: 2 methods", StringComparison.Ordinal)..];
        var rows = table.Split('\n').Where(l => l.StartsWith("│ sgd ") || l.StartsWith("│ sam ")).ToList();
        Assert.Equal(2, rows.Count);
        // Every row carries its accuracies and the head's geometry on one line: nothing wraps inside a number.
        Assert.All(rows, row => Assert.Matches(@"^│ s\w\w +│ -?\d+\.\d\d% +│ -?\d+\.\d\d% +│ -?\d+\.\d\d% +│( \S+ +│){3}", row));
        Assert.True(Widest(table) <= 100, $"wider than 100:\n{table}");
        Assert.Contains("Left out to fit 100 columns:", table);
        Assert.DoesNotMatch(new Regex(@"\d{8}-\d{6}-[0-9a-f]{4}"), string.Join('\n', rows));   // the run id is left out

        var wide = CliRunner.Run(dir, Columns(100), [.. args, "--wide"]);
        Assert.True(wide.ExitCode == 0, wide.ToString());
        Assert.Matches(@"│ sgd .*│ \d{8}-\d{6}-[0-9a-f]{4} │", wide.Stdout);
    }

    [Fact]
    public void RunsListLeavesOutColumnsOnANarrowTerminal()
    {
        var dir = CliRunner.TempDir();
        var train = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:8", "--epochs", "1", "--threads", "1");
        Assert.True(train.ExitCode == 0, train.ToString());
        var narrow = CliRunner.Run(dir, Columns(60), "runs", "list");
        Assert.True(narrow.ExitCode == 0, narrow.ToString());
        Assert.True(Widest(narrow.Stdout) <= 60, narrow.Stdout);
        Assert.Matches(@"│ \d{8}-\d{6}-[0-9a-f]{4} │ sgd +│ finished │ \d+\.\d\d% +│", narrow.Stdout);
        Assert.Contains("Left out to fit 60 columns: model, dataset, seed, gap (acc)", narrow.Stdout.ReplaceLineEndings(" "));
        var full = CliRunner.Run(dir, Columns(100), "runs", "list");
        Assert.Contains("│ moons ", full.Stdout);
        Assert.DoesNotContain("Left out", full.Stdout);
    }
}
