using Basin.IO;
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
        var wide = FittedTable.WideOption();
        var cmd = new Command("measures", """
            List the generalization measures (names for sweep files and --measures) with their facts: what they read,
            whether they need the initial weights, which rescalings leave them unchanged (claimed, and checked by the
            tests), their cost class, and how they enter a bound with m training examples (Jiang et al. 2020).
            """) { json, wide };
        cmd.SetAction(pr =>
        {
            var facts = MeasureRegistry.All.Select(m => m.Facts).ToArray();
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(facts)); return Cli.ExitOk; }
            var table = new FittedTable(new("measure"), new("definition", 1, Prose: true), new("reads", 4, Prose: true), new("init", 3),
                new("invariant under", 1), new("cost", 2), new("bound term (m examples)", 4, Prose: true));
            foreach (var f in facts)
                table.AddRow(f.Name, Markup.Escape(f.Definition), Markup.Escape(f.Reads), f.NeedsInitialWeights ? "yes" : "no",
                    f.Invariance switch { Invariance.NeuronWise => "neuron-wise rescaling", Invariance.LayerWise => "layer-wise rescaling", _ => "-" },
                    f.Cost.ToString().ToLowerInvariant(), Markup.Escape(BoundTerm(f)));
            table.Write(pr.GetValue(wide));
            var bounds = MeasureRegistry.Derived.Where(d => !d.Name.EndsWith(SizeAdjustment.Suffix, StringComparison.Ordinal)).ToArray();
            AnsiConsole.MarkupLine(Markup.Escape($"Sweep reports also score, from the stored values and each model's training-set size m: NAME{SizeAdjustment.Suffix} " +
                $"(the bound term above) for every measure that has one, and {string.Join("; ", bounds.Select(b => $"{b.Name} = {b.Facts.Definition}"))}, with their {SizeAdjustment.Suffix} forms."));
            return Cli.ExitOk;
        });
        return cmd;
    }

    static string BoundTerm(MeasureFacts f) => f.Scaling switch
    {
        SizeScaling.SquareRoot => $"√(μ/m): {f.ScalingReason}",
        SizeScaling.HalfLog => $"½(μ − log m): {f.ScalingReason}",
        _ => $"none: {f.ScalingReason}",
    };
}
