using Basin.IO;

namespace Basin.Experiments.Reports;

/// <summary>A report page: its title, HTML, charts (each written as CSV beside it) and notes on what it could not show.</summary>
public interface IReportPage
{
    string Title { get; }
    string FileStem { get; }
    string Html { get; }
    IReadOnlyList<PageChart> Charts { get; }
    IReadOnlyList<string> Notes { get; }
}

/// <summary>Where a report was written: the page and its charts' CSV files.</summary>
public sealed record ReportFiles(string HtmlPath, IReadOnlyList<string> CsvPaths, IReadOnlyList<string> Notes, IReportPage Page);

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
        var runs = runIds.Select(id => RunReport.Load(store, id))
            .Select(r => extra?.GetValueOrDefault(r.Id) is { } more ? r with { Final = [.. r.Final, .. more] } : r).ToList();
        var dupe = runs.GroupBy(r => r.Id).FirstOrDefault(g => g.Count() > 1);
        if (dupe is not null) throw new BasinException($"run {dupe.Key} is named twice");
        var ids = runs.Select(r => r.Id).ToList();
        var name = (compare ? "compare-" : "report-") + string.Join("-", ids.Take(3)) + (ids.Count > 3 ? $"-and-{ids.Count - 3}-more" : "");
        return Save(ReportPage.Build(runs, compare, DateTime.UtcNow, name), folder);
    }

    /// <summary>
    /// Writes the report page of sweep <paramref name="sweep"/> (a sweep file, or the name of a sweep recorded in
    /// <paramref name="store"/>) into <paramref name="outFolder"/> (default: <see cref="DefaultFolder"/>) as
    /// sweep-NAME.html. <paramref name="gap"/> (accuracy or loss) defaults to the sweep file's, else accuracy.
    /// </summary>
    public static ReportFiles WriteSweep(RunStore store, string sweep, string? gap = null, bool reachedTargetOnly = false,
        string? outFolder = null)
    {
        string name = sweep;
        if (File.Exists(sweep))
        {
            var file = Sweeps.SweepFile.Load(sweep);
            name = file.Name;
            gap ??= file.Gap;
        }
        var report = Sweeps.SweepReport.Build(store, name, gap ?? "accuracy", reachedTargetOnly);
        var page = SweepPage.Build(report, DateTime.UtcNow, ReportPage.BasinVersion(), "sweep-" + FileSafe(name));
        return Save(page, outFolder ?? DefaultFolder(store));
    }

    /// <summary>
    /// Writes the report page of the `basin robustness` output in <paramref name="folder"/> into <paramref name="outFolder"/>
    /// (default: that folder) as robustness.html; runs still in <paramref name="store"/> are named by method, name and seed.
    /// </summary>
    public static ReportFiles WriteRobustness(RunStore store, string folder, int? severity = null, string? outFolder = null)
    {
        var result = RobustnessPage.Read(folder);
        var labels = new Dictionary<string, string>();
        foreach (var r in result.Runs)
        {
            RunSummary s;
            try { s = store.Get(r.RunId).Summary; }
            catch (BasinException) { continue; }   // a run deleted since, or another runs folder: shown by its id
            labels[r.RunId] = $"{s.Name ?? s.Method ?? s.Kind} s{s.Seed}";
        }
        var page = RobustnessPage.Build(folder, result, labels, DateTime.UtcNow, ReportPage.BasinVersion(), "robustness", severity);
        return Save(page, outFolder ?? folder);
    }

    /// <summary>
    /// Writes the page of the landscapes, connectivity results and GAN interpolations in <paramref name="folder"/> (an --out
    /// folder of those jobs) into <paramref name="outFolder"/> (default: that folder) as landscape.html.
    /// </summary>
    public static ReportFiles WriteLandscape(string folder, string? outFolder = null) =>
        Save(LandscapePage.Build(folder, DateTime.UtcNow, ReportPage.BasinVersion(), "landscape"), outFolder ?? folder);

    /// <summary>A name as part of a file name: every character that is not a letter, digit, '-', '_' or '.' becomes '_'.</summary>
    static string FileSafe(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());

    /// <summary>
    /// Writes <paramref name="page"/> into <paramref name="folder"/> (made if missing): each chart's CSV, then the page
    /// (STEM.html), each atomically.
    /// </summary>
    public static ReportFiles Save(IReportPage page, string folder)
    {
        folder = Path.GetFullPath(folder);
        if (File.Exists(folder)) throw new BasinException($"the output folder {folder} is a file");
        try
        {
            Directory.CreateDirectory(folder);
            var csvs = new List<string>();
            foreach (var c in page.Charts)
            {
                var path = Path.Combine(folder, CsvName(page, c));
                AtomicFile.WriteAllText(path, c.Csv());
                csvs.Add(path);
            }
            var html = Path.Combine(folder, page.FileStem + ".html");
            AtomicFile.WriteAllText(html, page.Html);
            return new ReportFiles(html, csvs, page.Notes, page);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BasinException($"cannot write the report into {folder}: {e.Message}");
        }
    }

    /// <summary>The name of a chart's CSV file, beside the page: STEM.CHART.csv.</summary>
    public static string CsvName(IReportPage page, PageChart chart) => $"{page.FileStem}.{chart.Id}.csv";
}
