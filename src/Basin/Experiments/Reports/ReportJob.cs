using Basin.IO;

namespace Basin.Experiments.Reports;

/// <summary>Where a report was written: the page and its charts' CSV files.</summary>
public sealed record ReportFiles(string HtmlPath, IReadOnlyList<string> CsvPaths, ReportPage Page);

/// <summary>
/// Writes the HTML report of runs of a run store into a folder: NAME.html with NAME.CHART.csv beside it for each chart.
/// NAME is report-ID for one run, compare-ID-ID... for a comparison (the first three ids, then how many more). Every
/// file is written atomically, the page last, so a failure never leaves a half-written report.
/// </summary>
public static class ReportJob
{
    /// <summary>The default output folder: "reports" in the runs folder.</summary>
    public static string DefaultFolder(RunStore store) => Path.Combine(store.Folder, "reports");

    /// <summary>
    /// Writes the report of runs <paramref name="runIds"/> (unique prefixes accepted) into <paramref name="outFolder"/>
    /// (default: <see cref="DefaultFolder"/>). <paramref name="extra"/> adds figures measured outside the run database to
    /// a run's final figures, by run id (the demo's head geometry).
    /// </summary>
    public static ReportFiles Write(RunStore store, IReadOnlyList<string> runIds, bool compare, string? outFolder = null,
        IReadOnlyDictionary<string, IReadOnlyList<ReportFigure>>? extra = null)
    {
        if (runIds.Count == 0) throw new BasinException("name at least one run id (see 'basin runs list')");
        if (compare && runIds.Count < 2) throw new BasinException("--compare needs two or more runs");
        var folder = Path.GetFullPath(outFolder ?? DefaultFolder(store));
        if (File.Exists(folder)) throw new BasinException($"the output folder {folder} is a file");
        var runs = runIds.Select(id => RunReport.Load(store, id))
            .Select(r => extra?.GetValueOrDefault(r.Id) is { } more ? r with { Final = [.. r.Final, .. more] } : r).ToList();
        var dupe = runs.GroupBy(r => r.Id).FirstOrDefault(g => g.Count() > 1);
        if (dupe is not null) throw new BasinException($"run {dupe.Key} is named twice");
        var ids = runs.Select(r => r.Id).ToList();
        var name = (compare ? "compare-" : "report-") + string.Join("-", ids.Take(3)) + (ids.Count > 3 ? $"-and-{ids.Count - 3}-more" : "");
        var page = ReportPage.Build(runs, compare, DateTime.UtcNow, name);
        try
        {
            Directory.CreateDirectory(folder);
            var csvs = new List<string>();
            foreach (var c in page.Charts)
            {
                var path = Path.Combine(folder, page.CsvName(c));
                AtomicFile.WriteAllText(path, c.Csv());
                csvs.Add(path);
            }
            var html = Path.Combine(folder, name + ".html");
            AtomicFile.WriteAllText(html, page.Html);
            return new ReportFiles(html, csvs, page);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BasinException($"cannot write the report into {folder}: {e.Message}");
        }
    }
}
