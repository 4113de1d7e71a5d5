using System.CommandLine;
using System.Diagnostics;
using Basin.Experiments;
using Basin.Experiments.Reports;
using Basin.IO;

namespace Basin.Cli.Commands;

/// <summary>
/// `basin report RUN… [--compare] | --sweep FILE [--out DIR] [--open]`: a self-contained HTML report with its charts' data as CSV.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var ids = new Argument<string[]>("runs") { Description = "Run ids (or unique prefixes)", Arity = ArgumentArity.ZeroOrMore };
        var sweep = new Option<string?>("--sweep") { Description = "Report a sweep instead of runs: its sweep file, or the name of a " +
            "sweep recorded in the runs folder", HelpName = "FILE" };
        var robustness = new Option<string?>("--robustness") { Description = "Report the output folder of 'basin robustness' " +
            "instead of runs: per-sample geometry of every model side by side with linked selection, accuracy and geometry " +
            "against severity, similarity and redundancy (written into that folder unless --out)", HelpName = "DIR" };
        var landscape = new Option<string?>("--landscape") { Description = "Report a folder of 'basin landscape', 'basin connect' " +
            "or 'basin gan interpolate' results kept outside a run folder (their --out) instead of runs: slices, heat maps and " +
            "connectivity curves (written into that folder unless --out; results in a run folder are on that run's report)",
            HelpName = "DIR" };
        var severity = new Option<int?>("--severity") { Description = "With --robustness: the severity of the corrupted sets in " +
            "the per-sample views (default 3, or the nearest evaluated)" };
        var gap = new Option<string?>("--gap") { Description = "With --sweep: the gap the measures are ranked against, accuracy or " +
            "loss (default: the sweep file's, else accuracy)" };
        var compare = new Option<bool>("--compare") { Description = "Overlay the runs' curves and tabulate their final figures with " +
            "differences from the first run (two or more runs)" };
        var output = new Option<string?>("--out") { Description = "Folder for the page and its CSV files (default: RUNS/reports)" };
        var open = new Option<bool>("--open") { Description = "Open the page in the default browser (xdg-open) when written" };
        var json = Options.Json();
        var runs = Options.Runs();
        var cmd = new Command("report", """
            Write one self-contained HTML report (no network needed to view it) of runs: config, versions and seed; loss,
            accuracy, gap and learning rate per epoch as interactive charts; final figures and stored measures. With --compare,
            the curves of two or more runs overlaid and a table of final figures with differences. With --sweep FILE, the
            sweep's ranking of measures (sortable), τ before and after reparametrization, and the gap against any measure
            coloured by any axis. With --robustness DIR, the models of a robustness study side by side; with --landscape DIR,
            the landscapes, connectivity curves and interpolations written there. A GAN run's page shows W1, the losses and
            its images; a run's page shows the landscapes and curves left in its folder. Each chart's data is written beside
            the page as CSV.
            """) { ids, compare, sweep, gap, robustness, landscape, severity, output, open, json, runs };
        cmd.SetAction(pr =>
        {
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var runIds = pr.GetValue(ids)!;
            var sweepFile = pr.GetValue(sweep);
            var robustnessFolder = pr.GetValue(robustness);
            var landscapeFolder = pr.GetValue(landscape);
            if (new[] { sweepFile, robustnessFolder, landscapeFolder }.Count(x => x is not null) > 1)
                throw new OptionException("sweep", "--sweep, --robustness and --landscape each make a page of their own: give one");
            if ((sweepFile ?? robustnessFolder ?? landscapeFolder) is not null && (runIds.Length > 0 || pr.GetValue(compare)))
                throw new OptionException("sweep", $"{(sweepFile is not null ? "--sweep" : robustnessFolder is not null ? "--robustness"
                    : "--landscape")} makes a page of its own: name no run ids and no --compare with it");
            if (sweepFile is null && pr.GetValue(gap) is not null) throw new OptionException("gap", "--gap goes with --sweep");
            if (robustnessFolder is null && pr.GetValue(severity) is not null)
                throw new OptionException("severity", "--severity goes with --robustness");
            if (sweepFile is null && robustnessFolder is null && landscapeFolder is null && runIds.Length == 0)
                throw new OptionException("runs", "name at least one run id (see 'basin runs list'), a sweep with --sweep FILE or a " +
                    "robustness folder with --robustness DIR");
            var files = sweepFile is not null ? ReportJob.WriteSweep(store, sweepFile, pr.GetValue(gap), outFolder: pr.GetValue(output))
                : robustnessFolder is not null
                    ? ReportJob.WriteRobustness(store, robustnessFolder, pr.GetValue(severity), pr.GetValue(output))
                : landscapeFolder is not null ? ReportJob.WriteLandscape(landscapeFolder, pr.GetValue(output))
                : ReportJob.Write(store, runIds, pr.GetValue(compare), pr.GetValue(output));
            if (pr.GetValue(json))
                Console.WriteLine(Json.Serialize(new { Html = files.HtmlPath, Csv = files.CsvPaths, files.Page.Title }));
            else
            {
                Console.WriteLine($"Wrote {files.HtmlPath} ({files.Page.Charts.Count} chart{(files.Page.Charts.Count == 1 ? "" : "s")}, " +
                    $"data in {files.CsvPaths.Count} CSV file{(files.CsvPaths.Count == 1 ? "" : "s")} beside it).");
                foreach (var note in files.Notes) Console.WriteLine($"note: {note}");
            }
            if (pr.GetValue(open)) Open(files.HtmlPath);
            return Cli.ExitOk;
        });
        return cmd;
    }

    /// <summary>Opens a page in the desktop's browser; without one, says so (the page is written either way).</summary>
    internal static void Open(string path)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("xdg-open") { ArgumentList = { path }, UseShellExecute = false });
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"basin: no browser could be started (xdg-open is missing); open {path} yourself");
        }
    }
}
