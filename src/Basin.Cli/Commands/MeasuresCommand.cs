using Basin.IO;
using System.CommandLine;
using Basin.Measures;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin measures`: the measure catalog (every name `basin sweep` and `basin geometry` accept), with the facts.</summary>
public static class MeasuresCommand
{
    public static Command Create()
    {
        var json = Options.Json();
        var wide = FittedTable.WideOption();
        var cmd = new Command("measures", """
            List every measure name with its facts: where it is computed ('sweep': one number per model, for sweep
            files, 'basin sweep' and 'basin tightness' --measures; 'geometry': per layer, for 'basin geometry --measures'),
            what it reads, whether it needs the initial weights, which rescalings leave it unchanged (claimed, and checked
            by the tests), its cost class, and how it enters a bound with m training examples (Jiang et al. 2020).
            """) { json, wide };
        cmd.SetAction(pr =>
        {
            var facts = MeasureRegistry.Catalog;
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(facts)); return Cli.ExitOk; }
            var table = new FittedTable(new("measure"), new("for", 1), new("definition", 1, Prose: true), new("reads", 4, Prose: true),
                new("init", 3), new("invariant under", 1), new("cost", 2), new("bound term (m examples)", 4, Prose: true));
            foreach (var f in facts)
                table.AddRow(f.Name, Scope(f.Scope), Markup.Escape(f.Definition), Markup.Escape(f.Reads),
                    f.NeedsInitialWeights ? "yes" : "no", f.Invariance switch { Invariance.NeuronWise => "neuron-wise rescaling",
                    Invariance.LayerWise => "layer-wise rescaling", _ => "-" }, f.Cost.ToString().ToLowerInvariant(),
                        f.Scope.HasFlag(MeasureScope.Model) ? Markup.Escape(BoundTerm(f)) : "-");
            table.Write(pr.GetValue(wide));
            var bounds = MeasureRegistry.Derived.Where(d => !d.Name.EndsWith(SizeAdjustment.Suffix, StringComparison.Ordinal)).ToArray();
            AnsiConsole.MarkupLine(Markup.Escape("Sweep reports also score, from the stored values and each model's training-set size m: " +
                $"NAME{SizeAdjustment.Suffix} " +
                "(the bound term above) for every measure that has one, and " +
                $"{string.Join("; ", bounds.Select(b => $"{b.Name} = {b.Facts.Definition}"))}, with their {SizeAdjustment.Suffix} forms."));
            AnsiConsole.MarkupLine(Markup.Escape("Renamed (the old names still work, with a note, until the next release): " +
                string.Join("; ", MeasureRegistry.Renamed.Select(r => $"{r.OldName} → {r.NewName} ({Scope(r.Scope)})")) + "."));
            return Cli.ExitOk;
        });
        return cmd;
    }

    static string Scope(MeasureScope scope) => scope switch
    {
        MeasureScope.Model => "sweep",
        MeasureScope.Layer => "geometry",
        _ => "sweep, geometry",
    };

    static string BoundTerm(MeasureFacts f) => f.Scaling switch
    {
        SizeScaling.SquareRoot => $"√(μ/m): {f.ScalingReason}",
        SizeScaling.HalfLog => $"½(μ − log m): {f.ScalingReason}",
        _ => $"none: {f.ScalingReason}",
    };
}
