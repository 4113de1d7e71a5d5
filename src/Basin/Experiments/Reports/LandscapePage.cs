using System.Text;

namespace Basin.Experiments.Reports;

/// <summary>
/// The report page of a folder of `basin landscape`, `basin connect` or `basin gan interpolate` results that lives
/// outside a run folder (their --out): every slice, connectivity result and interpolation in the folder and its subfolders.
/// Results left in a run folder (the jobs' default) are also shown on that run's own report.
/// </summary>
public sealed record LandscapePage(string Title, string FileStem, string Html, IReadOnlyList<PageChart> Charts, IReadOnlyList<string> Notes,
    FolderContents Contents) : IReportPage
{
    public static LandscapePage Build(string folder, DateTime generatedUtc, string version, string fileStem)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new BasinException($"no folder {folder}");
        var notes = new List<string>();
        var contents = FolderContents.Read(folder, notes);
        if (contents.Landscapes.Count + contents.Connections.Count + contents.Interpolations.Count == 0)
            throw new BasinException($"{folder} holds no {FolderContents.LandscapeFile}, {FolderContents.ConnectFile} nor GAN " +
                $"interpolation {FolderContents.InterpolationFile} (nor do its subfolders): name the --out folder of 'basin landscape', " +
                "'basin connect' or 'basin gan interpolate'" + (notes.Count > 0 ? $" ({notes[0]})" : ""));
        var section = FolderViews.Build(contents, folder, "", fileStem);
        var parts = new List<string>();
        void Count(int n, string what) { if (n > 0) parts.Add($"{n} {what}{(n == 1 ? "" : "s")}"); }
        Count(contents.Landscapes.Count, "landscape");
        Count(contents.Connections.Count, "connectivity result");
        Count(contents.Interpolations.Count, "interpolation");
        var title = $"Basin landscapes: {string.Join(", ", parts)} in {Path.GetFileName(folder)}";
        var h = new StringBuilder();
        PageHtml.Notes(h, notes);
        h.Append($"<p>Results read from {PageHtml.E(folder)} and its subfolders.</p>\n").Append(section.Html);
        return new LandscapePage(title, fileStem, PageHtml.Document(title, h.ToString(), section.Charts, generatedUtc, version),
            section.Charts, notes, contents);
    }
}
