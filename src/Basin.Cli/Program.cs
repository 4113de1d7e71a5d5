using System.CommandLine;
using Basin.Cli;
using Basin.Cli.Commands;
using Spectre.Console;

// Piped output gets plain text at a width that keeps tables readable.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Capabilities.Ansi = false;
    AnsiConsole.Profile.Width = 200;
}

var root = new RootCommand("""
    Basin: train neural networks that generalize, and measure why they do.

    Start with './basin demo' (trains LeNet-5 on Fashion-MNIST with SGD, SAM, FAM and SAF and prints a table).
    Every command accepts --help; every command that reports results accepts --json.
    """);
Cli.NameRoot(root, "basin");
root.Options.Add(Options.Store);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(RunsCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(GeometryCommand.Create());
root.Subcommands.Add(GeometryCommand.Create(oldName: true));   // hidden alias for one release
root.Subcommands.Add(ReparametrizeCommand.Create());
root.Subcommands.Add(GanCommand.Create());
root.Subcommands.Add(MeasuresCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(MinimaCommand.Create());
root.Subcommands.Add(TightnessCommand.Create());
root.Subcommands.Add(GssnnCommand.Create());
root.Subcommands.Add(LandscapeCommand.Create());
root.Subcommands.Add(ConnectCommand.Create());
root.Subcommands.Add(PruneCommand.Create());
root.Subcommands.Add(RobustnessCommand.Create());
root.Subcommands.Add(SparseSearchCommand.Create());
return await Cli.InvokeAsync(root, args);
