using System.CommandLine;
using System.Globalization;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin reparametrize`: which geometry measures survive a function-preserving rescaling.</summary>
public static class ReparametrizeCommand
{
    public static Command Create()
    {
        var source = new GeometryCommand.SourceOptions(defaultSamples: 1000);
        var layer = new Option<string?>("--layer") { Description = "Layer to report: a linear or conv layer name, or 'all' (every one, " +
            "plus the whole network); default: the head" };
        var neuronWise = new Option<bool>("--neuron-wise") { Description = "One random factor per unit instead of one per layer" };
        var maxFactor = new Option<double>("--max-factor") { Description = "Factors are log-uniform in [1/F, F]",
            DefaultValueFactory = _ => 4 };
        var tolerance = new Option<double>("--tolerance") { Description = "A measure changed when its relative change exceeds this",
            DefaultValueFactory = _ => 1e-3 };
        var float64 = new Option<bool>("--float64") { Description = "Measure in float64 (slower, more exact)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the rescaling factors and of the random probes",
            DefaultValueFactory = _ => 0 };
        var cmd = new Command("reparametrize", """
            Apply a random function-preserving rescaling (layer-wise or neuron-wise, ReLU MLPs and LeNet-5) to saved weights
            and report every geometry measure before and after, marking which changed. Relative flatness is invariant;
            the plain Hessian trace and largest eigenvalue are not.
            Example: basin reparametrize --run 20261122-1701 --neuron-wise --seed 3
            """);
        source.AddTo(cmd);
        foreach (var o in new Option[] { layer, neuronWise, maxFactor, tolerance, float64, seed }) cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            source.ApplyThreads(pr);
            if (pr.GetValue(source.Tensors) is not null) throw new BasinException("--tensors is not supported by reparametrize; " +
                "use --dataset/--data");
            var spec = new ReparametrizeSpec
            {
                Layer = pr.GetValue(layer),
                NeuronWise = pr.GetValue(neuronWise),
                MaxFactor = pr.GetValue(maxFactor),
                Tolerance = pr.GetValue(tolerance),
                Float64 = pr.GetValue(float64),
                Seed = pr.GetValue(seed),
                Split = source.Split(pr),
                Samples = source.Samples(pr),
            };
            bool asJson = pr.GetValue(source.Json);
            using var store = source.Store(pr);
            var r = GeometryCommand.WithStatus(asJson, "comparing", progress => ReparametrizeJob.Run(pr.GetValue(source.Run), store,
                pr.GetValue(source.Weights), pr.GetValue(source.Model), pr.GetValue(source.Dataset), pr.GetValue(source.Data), spec,
                progress, ct));
            if (asJson) Console.WriteLine(Json.Serialize(r));
            else Render(r);
            if (r.Missing is not { } missing) return Cli.ExitOk;
            // Cancelled part-way: the finished comparisons were printed; say which are not.
            Cli.Error($"cancelled; not compared: {string.Join(", ", missing)}");
            return Cli.ExitCancelled;
        }, ct));
        return cmd;
    }

    static void Render(ReparametrizationReport r)
    {
        var rescalings = new Table().Title(Markup.Escape($"{(r.NeuronWise ? "neuron-wise" : "layer-wise")} rescaling of {r.Model} " +
            $"(seed {r.Seed}, factors in [1/{r.MaxFactor:G4}, {r.MaxFactor:G4}])"))
            .AddColumns("outputs of", "inputs of", "factors");
        foreach (var s in r.Rescalings)
        {
            var f = s.Factors.Distinct().Count() == 1 ? GeometryCommand.Number(s.Factors[0])
                : $"{s.Factors.Count} factors in [{GeometryCommand.Number(s.Factors.Min())}, " +
                $"{GeometryCommand.Number(s.Factors.Max())}]";
            rescalings.AddRow(Markup.Escape(s.PreviousLayer), Markup.Escape(s.Layer), Markup.Escape(f));
        }
        AnsiConsole.Write(rescalings);
        AnsiConsole.MarkupLine(Markup.Escape($"largest change of any output on the data: {GeometryCommand.Number(r.MaxOutputChange)} " +
            "(the function is preserved)"));
        var t = new Table().Title(Markup.Escape($"geometry before and after, {r.Dataset} ({r.Split}, {r.Samples} examples)"))
            .AddColumns("layer", "measure", "before", "after", "relative change", "changed");
        foreach (var m in r.Measures)
            t.AddRow(Markup.Escape(m.Layer == MeasureJob.AllParameters ? "all parameters" : m.Layer), Markup.Escape(m.Measure),
                GeometryCommand.Number(m.Before), GeometryCommand.Number(m.After),
                m.NotFinite ? "NaN" : m.RelativeChange.ToString("0.0e+0", CultureInfo.InvariantCulture),
                m.NotFinite ? "[red]not finite[/]" : m.Changed ? "[red]changed[/]" : "[green]unchanged[/]");
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(Markup.Escape($"changed: relative change > {r.Tolerance:G3}. {r.Seconds:F1} s"));
    }
}
