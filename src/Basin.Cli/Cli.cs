using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using System.Text.Json;
using Basin;
using Microsoft.Data.Sqlite;
using Spectre.Console;

namespace Basin.Cli;

/// <summary>Parsing, one-line errors and exit codes shared by every command.</summary>
public static class Cli
{
    public const int ExitOk = 0;
    public const int ExitError = 1;
    public const int ExitUsage = 2;
    /// <summary>An error Basin did not anticipate (a bug): still one line, but with the exception's type, to report.</summary>
    public const int ExitInternal = 70;
    public const int ExitCancelled = 130;
    /// <summary>The process ended because it did not stop within <see cref="TerminationGrace"/> of SIGTERM (128 + 15).</summary>
    public const int ExitTerminated = 143;

    /// <summary>How long a command may take to stop cleanly (write its checkpoint) after SIGTERM before the process exits anyway;
    /// the environment variable <see cref="TerminationGraceVariable"/> (seconds) changes it.</summary>
    public static readonly TimeSpan DefaultTerminationGrace = TimeSpan.FromSeconds(30);

    /// <summary>Seconds of grace after SIGTERM, e.g. to stop before a batch scheduler's own kill timeout.</summary>
    public const string TerminationGraceVariable = "BASIN_TERMINATION_GRACE";

    /// <summary>The grace after SIGTERM: <see cref="TerminationGraceVariable"/> when set, else
    /// <see cref="DefaultTerminationGrace"/>.</summary>
    static TimeSpan TerminationGrace()
    {
        var text = Environment.GetEnvironmentVariable(TerminationGraceVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultTerminationGrace;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
            out double seconds) && seconds >= 0 && seconds <= 86_400)
            return TimeSpan.FromSeconds(seconds);
        throw new BasinException($"{TerminationGraceVariable} must be a number of seconds between 0 and 86400, got '{text}'");
    }

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
        if (EmptyValue(parse.CommandResult) is { } empty)
        {
            Error($"{empty} was given an empty value (see 'basin {FullName(parse.CommandResult)} --help')");
            return ExitUsage;
        }
        if (parse.GetValue(Options.Store) is { } store)
        {
            if (!Basin.Experiments.PostgresRunDatabase.IsUrl(store))
            {
                Error("--store must be a URL postgresql://USER:PASSWORD@HOST:PORT/DATABASE (the SQLite store is chosen by --runs)");
                return ExitUsage;
            }
            Environment.SetEnvironmentVariable(Basin.Experiments.RunDatabase.StoreVariable, store);
        }
        // Exceptions on other threads (a worker's output handler, a progress callback) end the process with one line too.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            var message = "internal error: an unknown failure on another thread";
            int code = e.ExceptionObject is Exception ex ? Describe(ex, out message) : ExitInternal;
            Error(message);
            Console.Error.Flush();
            Environment.Exit(code);
        };
        // Ctrl+C (SIGINT) and SIGTERM cancel the command, which stops at the next batch boundary after
        // writing a checkpoint; a second Ctrl+C ends the process at once.
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        // SIGTERM cancels like Ctrl+C; a command that cannot stop (blocked in I/O, or a long computation without a
        // cancellation point) is ended after the grace, and a second SIGTERM ends the process at once.
        TimeSpan grace;
        try { grace = TerminationGrace(); }
        catch (BasinException e) { Error(e.Message); return ExitUsage; }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            if (cts.IsCancellationRequested) return;   // second SIGTERM: the default action (terminate) follows
            c.Cancel = true;
            cts.Cancel();
            _ = Task.Delay(grace).ContinueWith(_ =>
            {
                Error($"did not stop within {grace.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} " +
                    "s of SIGTERM; exiting");
                ExitNow(ExitTerminated);
            }, TaskScheduler.Default);
        });
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null }, cts.Token);
        }
        catch (Exception e)
        {
            int code = Describe(e, out var message);
            Error(FlagOf(e, parse.CommandResult.Command, message));
            return code;
        }
    }

    /// <summary>
    /// A setting the library names by its key (cpusPerTask) that the command has as an option (--cpus-per-task) is
    /// shown as the option; other messages are left as they are.
    /// </summary>
    static string FlagOf(Exception e, Command command, string message)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        if (e is not OptionException o || !message.StartsWith(o.Parameter, StringComparison.Ordinal)) return message;
        var flag = "--" + System.Text.RegularExpressions.Regex.Replace(o.Parameter, "(?<=[a-z0-9])([A-Z])", "-$1").ToLowerInvariant();
        return command.Options.Any(x => x.Name == flag) ? flag + message[o.Parameter.Length..] : message;
    }

    /// <summary>
    /// The one error boundary: every exception becomes one line and an exit code. Bad input (Basin's own checks, files,
    /// the run database, JSON, numbers out of range, libtorch refusing an operation) exits 1; cancellation 130; anything
    /// else is a bug and exits 70 with the exception's type in the line.
    /// </summary>
    const string DotNetCancelled = "The operation was canceled";

    public static int Describe(Exception e, out string message)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        (int code, message) = e switch
        {
            // .NET's own wording becomes "cancelled"; what a job added after it (what is kept, how to resume) stays.
            OperationCanceledException => (ExitCancelled, e.Message.StartsWith(DotNetCancelled, StringComparison.Ordinal)
                ? "cancelled" + e.Message[DotNetCancelled.Length..].TrimStart('.') : e.Message),
            // The library names settings by their keys (famLambda); the CLI shows the flag (--fam-lambda).
            OptionException o => (ExitUsage, (Basin.Training.Catalog.MethodCatalog.Flag(o.Parameter)
                ?? Commands.TrainOptions.Flags.GetValueOrDefault(o.Parameter)) is { } flag
                && o.Message.StartsWith(o.Parameter, StringComparison.Ordinal) ? flag + o.Message[o.Parameter.Length..] : o.Message),
            BasinException => (ExitError, e.Message),
            FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException => (ExitError,
                e.Message),
            IOException when e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) => (ExitError,
                $"disk full: {e.Message}"),
            IOException => (ExitError, e.Message),
            SqliteException s => (ExitError, $"run database: {s.Message}{SqliteHint(s)}"),
            JsonException => (ExitError, $"malformed JSON: {e.Message}"),
            FormatException => (ExitError, $"malformed value: {e.Message}"),
            OverflowException => (ExitError, $"a number is out of range: {e.Message}"),
            ArgumentException => (ExitError, $"invalid argument: {e.Message}"),
            OutOfMemoryException or InsufficientExecutionStackException => (ExitError, $"out of memory ({e.Message}); use a smaller " +
                "model, batch or data set"),
            System.Data.Common.DbException => (ExitError, $"run database: {FirstLine(e.Message)}"),   // PostgreSQL
            ExternalException => (ExitError, $"libtorch: {FirstLine(e.Message)}"),
            _ => (ExitInternal, $"internal error ({e.GetType().Name}): {FirstLine(e.Message)}; please report it"),
        };
        return code;
    }

    static string SqliteHint(SqliteException e) => e.SqliteErrorCode switch
    {
        5 or 6 => " (another basin process holds the database; wait for it or use another --runs folder)",
        8 => " (the database or its folder is read-only)",
        11 or 26 => " (the database file is damaged; restore it or use another --runs folder)",
        _ => "",
    };

    /// <summary>libtorch's messages carry a C++ backtrace after the first line ("Exception raised from ...").</summary>
    static string FirstLine(string message)
    {
        var cut = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        var text = (cut > 0 ? message[..cut] : message).Trim();
        var newline = text.IndexOf('\n');
        return newline > 0 ? text[..newline].Trim() : text;
    }

    /// <summary>The first option or argument given an empty (or blank) value, e.g. "--runs ''", or null.</summary>
    static string? EmptyValue(CommandResult command)
    {
        foreach (var child in command.Children)
        {
            var tokens = child switch { OptionResult o => o.Tokens, ArgumentResult a => a.Tokens, _ => null };
            if (tokens is null || tokens.All(t => !string.IsNullOrWhiteSpace(t.Value))) continue;
            return child switch
            {
                OptionResult o => o.Option.Name,
                ArgumentResult a => $"argument <{a.Argument.Name}>",
                _ => null,
            };
        }
        return null;
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

    /// <summary>
    /// Ends the process at once, as a kill would: no managed shutdown, so the command's thread cannot run on into native
    /// libraries being torn down (a libtorch error, a run recorded as failed). What it left stays as a kill leaves it: the
    /// last checkpoint, and a run listed as interrupted.
    /// </summary>
    static void ExitNow(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ExitProcess(code);
        Environment.Exit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitProcess(int status);

    /// <summary>Prints one error line to stderr (never multi-line: newlines are folded).</summary>
    public static void Error(string message) =>
        Console.Error.WriteLine("basin: error: " + message.ReplaceLineEndings(" "));

    /// <summary>True when stdout is a terminal and --json was not given: then progress bars are drawn.</summary>
    public static bool Interactive(bool json) => !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
}
