namespace Basin.Cli;

/// <summary>Warnings: one line on stderr, `basin: warning: ...`, and the command goes on (errors: <see cref="Cli.Error"/>).</summary>
public static class CliWarning
{
    public static void Write(string message) => Console.Error.WriteLine("basin: warning: " + message.ReplaceLineEndings(" "));
}
