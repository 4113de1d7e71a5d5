using System.CommandLine;
using Basin.Measures;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin measures`: the generalization measures Basin computes, with their facts.</summary>
public static class MeasuresCommand
{
    public static Command Create()
    {
        var json = Options.Json();
        var cmd = new Command("measures", """
            List the generalization measures (names for sweep files and --measures) with their facts: what they read,
            whether they need the initial weights, which rescalings leave them unchanged (claimed, and checked by the
            tests), and their cost class.
            """) { json };
        cmd.SetAction(pr =>
        {
            var facts = MeasureRegistry.All.Select(m => m.Facts).ToArray();
            if (pr.GetValue(json)) { Console.WriteLine(Reports.Json.Serialize(facts)); return Cli.ExitOk; }
            var table = new Table().AddColumns("measure", "definition", "reads", "init", "invariant under", "cost");
            foreach (var f in facts)
                table.AddRow(f.Name, Markup.Escape(f.Definition), Markup.Escape(f.Reads), f.NeedsInitialWeights ? "yes" : "no",
                    f.Invariance switch { Invariance.NeuronWise => "neuron-wise rescaling", Invariance.LayerWise => "layer-wise rescaling", _ => "-" },
                    f.Cost.ToString().ToLowerInvariant());
            AnsiConsole.Write(table);
            return Cli.ExitOk;
        });
        return cmd;
    }
}
