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
        if (args.Length == 0) args = ["--help"];
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command;
            var name = command == root ? "basin" : "basin " + FullName(parse.CommandResult);
            // "Unrecognized command or argument 'x'" says more than "Required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => e.Message.Contains('\'')) ?? parse.Errors[0];
            Error($"{error.Message} (see '{name} --help')");
            return ExitUsage;
        }
        // Ctrl+C (SIGINT) and SIGTERM cancel the command, which stops at the next batch boundary after
        // writing a checkpoint; a second Ctrl+C ends the process at once.
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            cts.Cancel();
        });
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cts.Token);
        }
        catch (OperationCanceledException e)
        {
            Error(e.Message.StartsWith("The operation was canceled", StringComparison.Ordinal) ? "cancelled" : e.Message);
            return ExitCancelled;
        }
        catch (OptionException e)
        {
            // The library names settings by their keys (famLambda); the CLI shows the flag (--fam-lambda).
            var flag = Basin.Training.Catalog.MethodCatalog.Flag(e.Parameter);
            Error(flag is not null && e.Message.StartsWith(e.Parameter, StringComparison.Ordinal) ? flag + e.Message[e.Parameter.Length..] : e.Message);
            return ExitUsage;
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

    /// <summary>
    /// Help says "Usage: basin ..." rather than the assembly's name (Basin.Cli; an assembly named
    /// "basin" would clash with the Basin library, as .NET assembly names ignore case). System.CommandLine
    /// 2.0 has no setter for the root's name, so its backing field is set; if that ever fails, help
    /// simply shows the assembly name.
    /// </summary>
    public static void NameRoot(RootCommand root, string name) =>
        typeof(Symbol).GetField("<Name>k__BackingField", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?.SetValue(root, name);

    /// <summary>Prints one error line to stderr (never multi-line: newlines are folded).</summary>
    public static void Error(string message) =>
        Console.Error.WriteLine("basin: error: " + message.ReplaceLineEndings(" "));

    /// <summary>True when stdout is a terminal and --json was not given: then progress bars are drawn.</summary>
    public static bool Interactive(bool json) => !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
