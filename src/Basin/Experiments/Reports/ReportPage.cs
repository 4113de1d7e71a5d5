using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;

namespace Basin.Experiments.Reports;

/// <summary>One row of a comparison table: a figure's value in each run and its difference from the first run's.</summary>
public sealed record ComparisonRow(string Figure, IReadOnlyList<double?> Values)
{
    /// <summary>Value − first run's value per run (null for the first run and where either is missing).</summary>
    public IReadOnlyList<double?> Differences =>
        Values.Select((v, i) => i == 0 || v is null || Values[0] is null ? null : v - Values[0]).ToList();
}

/// <summary>
/// A self-contained HTML report (every script and style inline: no network needed to view it) of one or more runs, or a
/// comparison of two or more: <see cref="Charts"/> are its Vega-Lite charts with their data, <see cref="Comparison"/> the
/// table of final figures (empty unless comparing).
/// </summary>
public sealed record ReportPage(string Title, IReadOnlyList<RunReport> Runs, bool Compare, IReadOnlyList<ReportChart> Charts,
    IReadOnlyList<ComparisonRow> Comparison, string FileStem, string Html) : IReportPage
{
    /// <summary>Charts of what only some runs have (m-coherence, SGLD's ensemble, a pruning series), one set per run.</summary>
    public IReadOnlyList<TableChart> MethodCharts { get; init; } = [];

    /// <summary>The name of a chart's CSV file, beside the page: STEM.CHART.csv.</summary>
    public string CsvName(ReportChart chart) => ReportJob.CsvName(this, chart);

    /// <summary>Each run's section of what other jobs left in its folder (images, landscapes, connectivity), in run order.</summary>
    public IReadOnlyList<PageSection> Sections { get; init; } = [];

    IReadOnlyList<PageChart> IReportPage.Charts => [.. Charts, .. MethodCharts, .. Sections.SelectMany(s => s.Charts)];

    /// <summary>What the runs lack (a missing folder or file), each as "run ID: note".</summary>
    public IReadOnlyList<string> Notes => Runs.SelectMany(r => r.Notes.Select(n => $"run {r.Id}: {n}")).ToList();

    /// <summary>
    /// The page for <paramref name="runs"/>: overlaid curves and a table of final figures when <paramref name="compare"/>;
    /// it names its charts' CSV files <paramref name="fileStem"/>.CHART.csv.
    /// </summary>
    public static ReportPage Build(IReadOnlyList<RunReport> runs, bool compare, DateTime generatedUtc, string fileStem = "report")
    {
        if (runs.Count == 0) throw new BasinException("a report needs at least one run");
        if (compare && runs.Count < 2) throw new BasinException("--compare needs two or more runs");
        var charts = new List<ReportChart>();
        if (compare) charts.AddRange(Curves(runs, "", overlaid: true));
        else if (runs.Count == 1) charts.AddRange(Curves(runs, "", overlaid: false));
        else foreach (var r in runs) charts.AddRange(Curves([r], r.Id + ".", overlaid: false));
        var comparison = compare ? CompareFigures(runs) : [];
        var title = compare ? $"Basin: {runs.Count} runs compared ({string.Join(", ", runs.Select(r => r.Method))})"
            : runs.Count == 1 ? $"Basin run {runs[0].Id}: {Label(runs[0])}" : $"Basin: {runs.Count} runs";
        var extra = runs.SelectMany(r => Reports.MethodCharts.Of(r, runs.Count == 1 ? "" : r.Id + ".")).ToList();
        var sections = runs.Select(r => FolderViews.ForRun(r, runs.Count == 1 ? "" : r.Id + ".", fileStem)).ToList();
        var html = PageHtml.Render(title, runs, compare, charts, extra, comparison, generatedUtc, BasinVersion(), fileStem, sections);
        return new ReportPage(title, runs, compare, charts, comparison, fileStem, html) { MethodCharts = extra, Sections = sections };
    }

    /// <summary>"method model on dataset, seed N".</summary>
    public static string Label(RunReport r) =>
        $"{r.Method}{(r.Model is null ? "" : " " + r.Model)}{(r.Dataset is null ? "" : " on " + r.Dataset)}, seed {r.Seed}";

    /// <summary>The per-epoch charts of <paramref name="runs"/> (those with at least one point): loss, accuracy, gaps, rate.</summary>
    static IEnumerable<ReportChart> Curves(IReadOnlyList<RunReport> runs, string idPrefix, bool overlaid)
    {
        // Overlaid curves name each run by method and id, so the legend tells the runs apart at a glance.
        string Name(RunReport r) => overlaid ? $"{r.Method} {r.Id}" : r.Id;
        IReadOnlyList<CurvePoint> Points(params (string Series, Func<ReportEpoch, double?> Value)[] series) =>
            runs.SelectMany(r => series.SelectMany(s => r.Epochs.Where(e => s.Value(e) is not null)
                .Select(e => new CurvePoint(Name(r), e.Epoch, s.Series, s.Value(e)!.Value)))).ToList();
        var charts = new[]
        {
            new ReportChart(idPrefix + "loss", "Cross-entropy loss (objective: the method's own, mean over the epoch's batches)", "loss",
                Points(("train", e => e.TrainLoss), ("test", e => e.TestLoss), ("objective", e => e.Objective)), overlaid),
            new ReportChart(idPrefix + "accuracy", "Accuracy", "accuracy",
                Points(("train", e => e.TrainAccuracy), ("test", e => e.TestAccuracy)), overlaid),
            new ReportChart(idPrefix + "gap", "Generalization gap", "gap",
                Points(("accuracy (train − test)", e => e.AccuracyGap), ("loss (test − train)", e => e.Gap)), overlaid),
            new ReportChart(idPrefix + "learning-rate", "Learning rate (last update of each epoch)", "learning rate",
                Points(("learning rate", e => e.LearningRate)), overlaid) { ZeroBased = true },
            new ReportChart(idPrefix + "dnr", "Dead-neuron rate (end of each epoch)", "dead-neuron rate",
                Points(("all units", e => e.Dnr), ("without the units the mask removed", e => e.DnrExcludingStructural)), overlaid),
        };
        var order = overlaid ? runs.Select(Name).ToList() : null;
        return charts.Where(c => c.Points.Count > 0).Concat(GanReport.Curves(runs, idPrefix, overlaid, Name))
            .Select(c => c with { RunOrder = order });
    }

    /// <summary>Every figure any run has (final figures, then measures), in first-seen order, with each run's value.</summary>
    static List<ComparisonRow> CompareFigures(IReadOnlyList<RunReport> runs)
    {
        var names = runs.SelectMany(r => r.Figures.Select(f => f.Name)).Distinct(StringComparer.Ordinal).ToList();
        return names.Select(n => new ComparisonRow(n, runs.Select(r => r.Figures.FirstOrDefault(f => f.Name == n)?.Value).ToList()))
            .ToList();
    }

    internal static string BasinVersion() =>
        typeof(ReportPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? "unknown";

    /// <summary>How the page shows a number: 6 significant digits, invariant culture; a missing one is "–".</summary>
    public static string Show(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "–";

    /// <summary>A difference as the page shows it: signed, 6 significant digits.</summary>
    public static string ShowDifference(double? d) => d is { } x ? (x >= 0 ? "+" : "") + Show(x) : "";
}
