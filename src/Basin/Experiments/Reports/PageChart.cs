using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Basin.Experiments.Reports;

/// <summary>
/// A chart of a report page: <see cref="Id"/> names its element and its CSV file (STEM.ID.csv beside the page); its data
/// is written as <see cref="Csv"/> and drawn by the Vega-Lite <see cref="Spec"/>.
/// </summary>
public abstract record PageChart(string Id, string Title)
{
    /// <summary>The chart's data as CSV with a header row; numbers round-trip.</summary>
    public abstract string Csv();

    /// <summary>The Vega-Lite spec, data included.</summary>
    public abstract JsonObject Spec();

    /// <summary>A CSV cell: quoted when it holds a comma, quote or line break.</summary>
    public static string CsvCell(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>
/// A chart over a table: named columns and rows of cells (string, number or null; a non-finite number is written as
/// an empty cell), drawn by <paramref name="Layout"/>, a Vega-Lite spec without its data.
/// </summary>
public sealed record TableChart(string Id, string Title, IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, JsonObject Layout)
    : PageChart(Id, Title)
{
    public override string Csv()
    {
        var sb = new StringBuilder(string.Join(",", Columns.Select(CsvCell))).Append('\n');
        foreach (var row in Rows) sb.Append(string.Join(",", row.Select(Cell))).Append('\n');
        return sb.ToString();
    }

    static string Cell(object? v) => v switch
    {
        null => "",
        double d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => CsvCell(v.ToString() ?? ""),
    };

    public override JsonObject Spec()
    {
        var spec = (JsonObject)Layout.DeepClone();
        spec["title"] ??= Title;
        // The data as the CSV text itself, parsed by the page (a column of numbers as numbers, an empty cell as null): half
        // the size of row objects, which repeat every column's name. Other columns stay text.
        var parse = new JsonObject();
        for (int i = 0; i < Columns.Count; i++)
            if (Rows.Any(r => r[i] is not null) && Rows.All(r => r[i] is null or double or int or long)) parse[Columns[i]] = "number";
        spec["data"] = new JsonObject
        {
            ["values"] = Csv(), ["format"] = new JsonObject { ["type"] = "csv", ["parse"] = parse },
        };
        return spec;
    }
}
