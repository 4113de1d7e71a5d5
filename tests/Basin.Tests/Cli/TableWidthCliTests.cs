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
    public void UnitsGoBelowTheirHeadersBeforeAnyColumnIsLeftOut()
    {
        Assert.Equal("test acc\n(%)", FittedTable.Header("test acc (%)", unitsBelow: true));
        Assert.Equal("test acc (%)", FittedTable.Header("test acc (%)", unitsBelow: false));
        Assert.Equal("method", FittedTable.Header("method", unitsBelow: true));
        // Widths on one line: 6 + 12 + 15 + 3 each + 1 = 43; with units below: 6 + 8 + 8 (loss gap) + 10 = 32.
        var t = new FittedTable(new("method"), new("test acc (%)", 1), new("loss gap (nats)", 2));
        t.AddRow("sgd", "83.72", "0.1234");
        AssertLayout([0, 1, 2], false, t.Layout(43, wide: false));
        AssertLayout([0, 1, 2], true, t.Layout(42, wide: false));
        AssertLayout([0, 1, 2], true, t.Layout(32, wide: false));
        // Too narrow even so: the least important column goes, and the rest fit on one line again (1 + 9 + 15 = 25).
        AssertLayout([0, 1], false, t.Layout(31, wide: false));
        AssertLayout([0, 1, 2], false, t.Layout(20, wide: true));
    }

    static void AssertLayout(int[] shown, bool unitsBelow, (IReadOnlyList<int> Shown, bool UnitsBelow) layout)
    {
        Assert.Equal(shown, layout.Shown);
        Assert.Equal(unitsBelow, layout.UnitsBelow);
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
        // The table and its notes; the report's path after them is not wrapped (below).
        var table = r.Stdout[r.Stdout.IndexOf("Fashion-MNIST, mlp:16, 96 images, 1 epoch, seed 1: 2 methods", StringComparison.Ordinal)
            ..r.Stdout.IndexOf("Report (curves", StringComparison.Ordinal)];
        var rows = table.Split('\n').Where(l => l.StartsWith("│ sgd ") || l.StartsWith("│ sam ")).ToList();
        Assert.Equal(2, rows.Count);
        // The headers carry the units, on a second line at this width: accuracies in %, the accuracy gap in points.
        var lines = table.Split('\n').ToList();
        int header = lines.FindIndex(l => l.StartsWith("│ method "));
        Assert.Matches(@"^│ method +│ train acc +│ test acc +│ acc gap +│", lines[header]);
        Assert.Matches(@"^│ +│ \(%\) +│ \(%\) +│ \(pp\) +│", lines[header + 1]);
        Assert.Contains("acc gap = train − test accuracy (percentage points); loss gap = test − train loss (nats).",
            r.Stdout.ReplaceLineEndings(" "));
        // Every row carries its accuracies and the head's geometry on one line: nothing wraps inside a number.
        Assert.All(rows, row => Assert.Matches(@"^│ s\w\w +│ -?\d+\.\d\d +│ -?\d+\.\d\d +│ -?\d+\.\d\d +│( \S+ +│){3}", row));
        Assert.True(Widest(table) <= 100, $"wider than 100:\n{table}");
        Assert.Contains("Left out to fit 100 columns:", table);
        Assert.DoesNotMatch(new Regex(@"\d{8}-\d{6}-[0-9a-f]{4}"), string.Join('\n', rows));   // the run id is left out
        // The report's path is printed whole on its own line, however narrow the terminal, so it can be copied.
        const string id = @"\d{8}-\d{6}-[0-9a-f]{4}";
        Assert.Matches(new Regex(@"^Report \(curves, final figures, config; open it in a browser\):$\n^\S+/report/compare-"
            + $@"{id}-{id}\.html$", RegexOptions.Multiline), r.Stdout);

        var wide = CliRunner.Run(dir, Columns(100), [.. args, "--wide"]);
        Assert.True(wide.ExitCode == 0, wide.ToString());
        Assert.Matches(@"│ sgd .*│ \d{8}-\d{6}-[0-9a-f]{4} │", wide.Stdout);
        Assert.Contains("│ loss gap (nats) │", wide.Stdout);
        Assert.Contains("│ s/step ", wide.Stdout);

        // The chart carries the same setting as the table's title.
        var json = CliRunner.Run(dir, null, [.. args, "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal("Fashion-MNIST, mlp:16, 96 images, 1 epoch, seed 1", doc.RootElement.GetProperty("chartTitle").GetString());
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
        Assert.Matches(@"│ \d{8}-\d{6}-[0-9a-f]{4} │ sgd +│ finished │ \d+\.\d\d +│", narrow.Stdout);
        Assert.Contains("Left out to fit 60 columns: model, dataset, seed, acc gap (pp)", Regex.Replace(narrow.Stdout, @"\s+", " "));
        var full = CliRunner.Run(dir, Columns(100), "runs", "list");
        Assert.Contains("│ moons ", full.Stdout);
        Assert.DoesNotContain("Left out", full.Stdout);
        Assert.True(Widest(full.Stdout) <= 100, full.Stdout);
        Assert.Matches(@"│ seed │ test acc │ acc gap │\n│ .*│ +│ \(%\) +│ \(pp\) +│\n", full.Stdout);
        Assert.Matches(@"│ finished │ mlp:8:relu │ moons +│ 1 +│ \d+\.\d\d +│ -?\d+\.\d\d +│", full.Stdout);
        var wide = CliRunner.Run(dir, Columns(200), "runs", "list");
        Assert.Contains("│ test acc (%) │ acc gap (pp) │", wide.Stdout);   // on one line where there is room

        // The training table and the epoch lines use the same convention.
        Assert.Contains("loss gap (nats)", train.Stdout);
        Assert.Contains("acc gap (pp)", train.Stdout);
        Assert.Matches(@"loss gap -?\d+\.\d{4} nats", train.Stdout);
        var show = CliRunner.Run(dir, null, "runs", "show", System.Text.RegularExpressions.Regex.Match(full.Stdout,
            @"\d{8}-\d{6}-[0-9a-f]{4}").Value);
        Assert.True(show.ExitCode == 0, show.ToString());
        foreach (var h in new[] { "train loss (nats)", "test acc (%)", "loss gap (nats)", "acc gap (pp)", "time (s)" })
            Assert.Contains(h, show.Stdout);
    }
}
