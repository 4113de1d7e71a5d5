using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Symbolic;
using Basin.Symbolic;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gssnn study|population|show`: G-SSNN modules built from graph programs (Basin.Experiments.Symbolic).</summary>
public static class GssnnCommand
{
    static readonly GssnnStudySpec D = new();
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var cmd = new Command(
            "gssnn",
            "Graph-based symbolically synthesized modules (G-SSNN): train programs' graphs on a few-shot task against the plain encoder"
        );
        cmd.Subcommands.Add(Study());
        cmd.Subcommands.Add(GssnnPopulationCommand.Create());
        cmd.Subcommands.Add(Show());
        return cmd;
    }

    static Command Study()
    {
        var programs = new Option<int>("--programs")
        {
            Description = "Sampled programs (seeds 1..N)",
            DefaultValueFactory = _ => D.Programs,
        };
        var noControls = new Option<bool>("--no-controls")
        {
            Description = "Leave out the control graphs (edge, paths, stars, cycles, K4, trees)",
        };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per program", DefaultValueFactory = _ => D.SeedsPerProgram };
        var baselineSeeds = new Option<int>("--baseline-seeds")
        {
            Description = "Seeds of the baseline and of the matched-capacity encoder",
            DefaultValueFactory = _ => D.BaselineSeeds,
        };
        var bench = new GssnnBenchOptions("study");
        var cmd = new Command(
            "study",
            """
            A few-shot binary task on Fashion-MNIST (128 training examples by default): the plain CNN encoder, the encoder
            with a matched-capacity MLP, and the encoder with a G-SSNN module per graph (sampled programs and control graphs),
            each with several seeds; reports the spread across programs against the baseline's seed spread (ANOVA, ICC),
            programs above or below the baseline, and Kendall τ between programs' train and eval accuracy.
            Example: basin gssnn study --programs 24 --seeds 4 --threads 1
            """
        )
        {
            programs,
            noControls,
            seeds,
            baselineSeeds,
        };
        foreach (var option in bench.All)
            cmd.Options.Add(option);
        cmd.SetAction(
            (pr, ct) =>
                Task.Run(
                    () =>
                    {
                        var spec = bench.Bench(pr, pr.GetValue(baselineSeeds)) with
                        {
                            Programs = pr.GetValue(programs),
                            Controls = !pr.GetValue(noControls),
                            SeedsPerProgram = pr.GetValue(seeds),
                        };
                        using var store = RunStore.Open(pr.GetValue(bench.Runs)!);
                        if (pr.GetValue(bench.Resume) is { } earlier)
                            spec = GssnnJob.StoredSpec<GssnnStudySpec>(store, earlier) with { Threads = spec.Threads };
                        var progress = ProgressLines(pr.GetValue(bench.Json));
                        var (id, result) = GssnnJob.Study(spec, store, pr.GetValue(bench.Resume), progress, ct);
                        return bench.Finish(pr, id, result, Render);
                    },
                    ct
                )
        );
        return cmd;
    }

    /// <summary>One line per finished training (to stderr with --json, so stdout stays JSON).</summary>
    internal static IProgress<GssnnProgress> ProgressLines(bool asJson) =>
        new Progress<GssnnProgress>(p =>
        {
            var line = $"gssnn: {p.Done}/{p.Total} {p.Arm} seed {p.Seed}: train {p.Result.TrainAccuracy:P1}, eval "
                + $"{p.Result.EvalAccuracy:P1}{(p.Reused ? " (from the earlier run)" : "")}";
            if (asJson) Console.Error.WriteLine(line);
            else Console.WriteLine(line);
        });

    static void Render(GssnnStudyResult result)
    {
        var table = new Table().AddColumns("arm", "program", "nodes", "edges", TrainingView.TrainAccuracy, "eval acc (%, mean ± sd)");
        foreach (var a in result.Arms)
        {
            double sd = GssnnStudy.Sd(a.Runs.Select(r => r.EvalAccuracy).ToArray());
            table.AddRow(
                Markup.Escape(a.Name),
                Markup.Escape(a.Program ?? "-"),
                a.Nodes.ToString(Inv),
                a.Edges.ToString(Inv),
                (100 * a.MeanTrain).ToString("F1", Inv),
                $"{100 * a.MeanEval:F1} ± {100 * sd:F1}"
            );
        }
        AnsiConsole.Write(table);
        var s = result.Summary;
        Console.WriteLine(
            $"baseline {100 * s.BaselineMean:F1} ± {100 * s.BaselineSd:F1} %, "
                + $"matched capacity {100 * s.MatchedMean:F1} ± {100 * s.MatchedSd:F1} %, "
                + $"programs {100 * s.ProgramMean:F1} % (mean of {s.ProgramCount})"
        );
        Console.WriteLine(
            $"between-program ANOVA F {s.AnovaF:F2} (p {s.AnovaP:F3}), ICC {s.Icc:F2}; {s.Above} above and {s.Below} below the "
                + $"baseline by > 2 SE; Kendall τ(train, eval) over programs {(s.TauTrainEval is { } t ? t.ToString("F2", Inv) : "-")}"
        );
        if (s.Predictors.Count > 0)
            Console.WriteLine("Spearman ρ(graph statistic, mean eval): "
                + string.Join(", ", s.Predictors.Select(p => $"{p.Key} {p.Value.ToString("+0.00;-0.00;0.00", Inv)}")));
        if (s.Selection is { } sel)
            Console.WriteLine($"selection on held-out seeds: the top {sel.Selected.Count} by train accuracy "
                + $"({string.Join(", ", sel.Selected)}) evaluate at {100 * sel.SelectedEval:F1} %, all graphs {100 * sel.AllEval:F1} %, "
                + $"baseline {100 * sel.BaselineEval:F1} %");
    }

    static Command Show()
    {
        var program = new Argument<string>("program")
        {
            Description = "A program (words: add extend next push pop connect) or a control graph's name",
        };
        var maxConn = new Option<int>("--max-conn")
        {
            Description = "Ports per node",
            DefaultValueFactory = _ => GraphProgram.DefaultMaxConn,
        };
        var png = new Option<string?>("--png") { Description = "Also draw the graph to this PNG file" };
        var cmd = new Command(
            "show",
            "Run a graph program and print its graph (nodes, edges with ports) and its JSON in the reference format"
        )
        {
            program,
            maxConn,
            png,
        };
        cmd.SetAction(pr =>
        {
            var text = pr.GetValue(program)!;
            var graph = CanonicalGraphs.All.ContainsKey(text)
                ? CanonicalGraphs.Get(text)
                : GraphProgram.Parse(text).Run(pr.GetValue(maxConn));
            Console.WriteLine(
                $"{graph.Nodes.Count} nodes ({string.Join(" ", graph.Nodes)}), {graph.Edges.Count} edges, {graph.ElementCount} elements"
            );
            foreach (var e in graph.Edges)
                Console.WriteLine($"  edge {e.Id}: {e.A} (port {e.PortA}) - {e.B} (port {e.PortB})");
            Console.WriteLine(graph.ToReferenceJson());
            if (pr.GetValue(png) is { } file)
            {
                GraphDrawing.Save(graph, file, text);
                Console.WriteLine($"drew {file}");
            }
            return Cli.ExitOk;
        });
        return cmd;
    }
}
