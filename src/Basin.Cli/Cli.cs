using System.CommandLine;
using Basin;
using Spectre.Console;

namespace Basin.Cli;

/// <summary>Parsing, one-line errors and exit codes shared by every command.</summary>
public static class Cli
{
    public const int ExitOk = 0;
    public const int ExitError = 1;
    public const int ExitUsage = 2;
    public const int ExitCancelled = 130;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command;
            var name = command == root ? "basin" : "basin " + FullName(parse.CommandResult);
            Error($"{parse.Errors[0].Message} (see '{name} --help')");
            return ExitUsage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Error("cancelled");
            return ExitCancelled;
        }
        catch (BasinException e)
        {
            Error(e.Message);
            return ExitError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(e.Message);
            return ExitError;
        }
    }

    static string FullName(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r != null && r.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent)
            names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>Prints one error line to stderr (never multi-line: newlines are folded).</summary>
    public static void Error(string message) =>
        Console.Error.WriteLine("basin: error: " + message.ReplaceLineEndings(" "));

    /// <summary>True when stdout is a terminal and --json was not given: then progress bars are drawn.</summary>
    public static bool Interactive(bool json) => !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
