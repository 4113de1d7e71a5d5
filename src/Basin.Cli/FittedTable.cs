using System.CommandLine;
using System.Text;
using Spectre.Console;

namespace Basin.Cli;

/// <summary>One column of a <see cref="FittedTable"/>: its header, how important it is (0: always shown, larger:
/// left out sooner) and whether its cells are prose that may wrap (numbers and ids never wrap).</summary>
public sealed record FittedColumn(string Header, int Importance = 0, bool Prose = false);

/// <summary>
/// A table that fits the terminal ($COLUMNS, or 100 columns when the output is not a terminal): when the full table is wider,
/// headers put their unit ("test acc (%)") on a second line, then the least important columns are left out, and a note
/// names them; `--wide` shows every column at full width. Cells never break inside a number: only prose columns wrap.
/// </summary>
public sealed class FittedTable
{
    /// <summary>Narrowest width a prose column is squeezed to before columns are left out.</summary>
    public const int MinProseWidth = 24;

    readonly IReadOnlyList<FittedColumn> columns;
    readonly List<string[]> rows = [];

    public FittedTable(params FittedColumn[] columns) => this.columns = columns;

    public string? Title { get; init; }

    /// <summary>The `--wide` option of every command that prints a table.</summary>
    public static Option<bool> WideOption() =>
        new("--wide") { Description = "Show every table column at full width, however wide the terminal (default: fit the terminal)" };

    /// <summary>Adds a row of Spectre markup cells, one per column.</summary>
    public void AddRow(params string[] cells)
    {
        if (cells.Length != columns.Count) throw new ArgumentException($"expected {columns.Count} cells, got {cells.Length}");
        rows.Add(cells);
    }

    /// <summary>The columns shown at <paramref name="width"/> characters (all of them when <paramref name="wide"/>).</summary>
    public IReadOnlyList<int> Shown(int width, bool wide) => Layout(width, wide).Shown;

    /// <summary>The columns shown at <paramref name="width"/> characters, and whether headers carry their units on a second
    /// line (only when the table does not fit otherwise).</summary>
    public (IReadOnlyList<int> Shown, bool UnitsBelow) Layout(int width, bool wide)
    {
        var shown = Enumerable.Range(0, columns.Count).ToList();
        if (wide || Width(shown, squeezeProse: true, unitsBelow: false) <= width) return (shown, false);
        while (Width(shown, squeezeProse: true, unitsBelow: true) > width)
        {
            var candidates = shown.Where(i => columns[i].Importance > 0).ToList();
            if (candidates.Count == 0) break;
            int least = candidates.OrderByDescending(i => columns[i].Importance).ThenByDescending(i => i).First();
            shown.Remove(least);
        }
        return (shown, Width(shown, squeezeProse: true, unitsBelow: false) > width);
    }

    /// <summary>"test acc (%)" as "test acc" over "(%)" when <paramref name="unitsBelow"/>; headers without a unit as they are.</summary>
    public static string Header(string header, bool unitsBelow)
    {
        int cut = header.LastIndexOf(" (", StringComparison.Ordinal);
        return unitsBelow && cut > 0 && header.EndsWith(')') ? header[..cut] + "\n" + header[(cut + 1)..] : header;
    }

    /// <summary>Writes the table to the console, then a note naming the columns left out, if any.</summary>
    public void Write(bool wide)
    {
        var console = AnsiConsole.Console;
        console.Profile.Width = TargetWidth();
        var (shown, unitsBelow) = Layout(console.Profile.Width, wide);
        if (wide) console.Profile.Width = Math.Max(console.Profile.Width, Width(shown, squeezeProse: false, unitsBelow: false));
        var table = new Table();
        if (Title is { } title) table.Title(title);
        foreach (var i in shown)
        {
            var column = new TableColumn(Markup.Escape(Header(columns[i].Header, unitsBelow)));
            if (!columns[i].Prose) column.NoWrap();
            table.AddColumn(column);
        }
        foreach (var row in rows) table.AddRow(shown.Select(i => row[i]).ToArray());
        console.Write(table);
        var hidden = Enumerable.Range(0, columns.Count).Except(shown).Select(i => columns[i].Header).ToList();
        if (hidden.Count > 0)
            console.MarkupLine(Markup.Escape($"Left out to fit {console.Profile.Width} columns: {string.Join(", ", hidden)} " +
                "(--wide shows them)."));
    }

    /// <summary>The width tables fit: $COLUMNS when set, else the terminal's width, else (output to a file or a pipe)
    /// <see cref="RedirectedWidth"/>.</summary>
    public static int TargetWidth()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= 40) return columns;
        if (Console.IsOutputRedirected) return RedirectedWidth;
        try { return Console.WindowWidth >= 40 ? Console.WindowWidth : RedirectedWidth; }
        catch (IOException) { return RedirectedWidth; }
    }

    /// <summary>Width of tables written to a file or a pipe.</summary>
    public const int RedirectedWidth = 100;

    /// <summary>Rendered width of the given columns: each column's widest cell or header, plus padding and borders.</summary>
    int Width(IReadOnlyList<int> shown, bool squeezeProse, bool unitsBelow)
    {
        int total = 1;
        foreach (var i in shown)
        {
            int natural = rows.Select(r => CellWidth(r[i])).Append(CellWidth(Markup.Escape(Header(columns[i].Header, unitsBelow)))).Max();
            if (squeezeProse && columns[i].Prose) natural = Math.Min(natural, MinProseWidth);
            total += natural + 3;
        }
        return total;
    }

    static int CellWidth(string markup) =>
        Markup.Remove(markup).Split('\n').Max(line => line.EnumerateRunes().Sum(r => Rune.IsControl(r) ? 0 : CharWidth(r)));

    // East Asian wide characters take two columns; everything Basin prints (Latin, Greek, maths) takes one.
    static int CharWidth(Rune r) => r.Value >= 0x1100 && (r.Value <= 0x115F || (r.Value >= 0x2E80 && r.Value <= 0xA4CF)
        || (r.Value >= 0xAC00 && r.Value <= 0xD7A3) || (r.Value >= 0xF900 && r.Value <= 0xFAFF)
        || (r.Value >= 0xFF00 && r.Value <= 0xFF60)) ? 2 : 1;
}
