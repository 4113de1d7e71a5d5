using System.CommandLine;
using System.Globalization;
using Basin.Gan;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gan`: Wasserstein GANs (train, interpolate, compare). Each subcommand is one call into
/// Basin.Experiments.Training.</summary>
public static class GanCommand
{
    public static Command Create()
    {
        var cmd = new Command("gan", "Wasserstein GANs with weight clipping, gradient penalty (GP) or Lipschitz penalty (LP); latent " +
            "interpolation; the λ-sensitivity study");
        cmd.Subcommands.Add(GanTrainCommand.Create());
        cmd.Subcommands.Add(GanInterpolateCommand.Create());
        cmd.Subcommands.Add(GanCompareCommand.Create());
        return cmd;
    }

    internal static int[]? ParseInts(string? text, string option) => text is null ? null : ParseList(text, option, s => int.Parse(s,
        CultureInfo.InvariantCulture));

    internal static T[] ParseList<T>(string text, string option, Func<string, T> parse)
    {
        try { return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray(); }
        catch (FormatException) { throw new BasinException($"{option}: '{text}' is not a comma-separated list of numbers"); }
        catch (OverflowException) { throw new BasinException($"{option}: '{text}' has a number out of range"); }
    }
}
