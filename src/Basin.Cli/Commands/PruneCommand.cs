using System.CommandLine;
using System.Globalization;
using Basin.Experiments;
using Basin.Experiments.Pruning;
using Basin.IO;
using Basin.Training;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin prune RUN`: magnitude, random or node pruning to a sparsity, or IMP / IMP+AP in rounds; one recorded run per
/// round.</summary>
public static class PruneCommand
{
    public static Command Create()
    {
        var d = new PruneSpec { SourceRun = "" };
        var run = new Argument<string?>("RUN") { Description = "The finished training run to prune (id or unique prefix)",
            Arity = ArgumentArity.ZeroOrOne };
        var resume = new Option<string?>("--resume") { Description = "Continue the pruning job that recorded this round run " +
            "(any of its rounds) with its recorded settings: finished rounds are kept, the unfinished one continues from its " +
            "checkpoint" };
        var method = new Option<string>("--method") { Description = "magnitude, random, node (one-shot, --sparsity) or " +
            "imp, imp+ap (--rounds)", DefaultValueFactory = _ => d.Method };
        var sparsity = new Option<double?>("--sparsity") { Description = "One-shot: the fraction of prunable weights (node: of hidden " +
            "units) to remove, in [0, 1)" };
        var rounds = new Option<int?>("--rounds") { Description = "imp, imp+ap: number of pruning rounds" };
        var rate = new Option<double>("--rate") { Description = "imp, imp+ap: percent of the alive weights removed per round",
            DefaultValueFactory = _ => d.Rate };
        var apRate = new Option<double>("--ap-rate") { Description = "imp+ap: percent (of the alive weights) AP removes among negative " +
            "weights that moved least", DefaultValueFactory = _ => d.ApRate };
        var rewind = new Option<string?>("--rewind") { Description = "init: back to the run's initialization before each round trains; " +
            "epoch:K: back to the run's weights after K epochs (replayed); lr: keep the trained weights and replay the schedule " +
            "(default: init for random, imp, imp+ap; lr for magnitude, node)" };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs of training per round (default: the run's; 0: " +
            "prune and evaluate only)" };
        var layerwise = new Option<bool>("--layerwise") { Description = "Rank magnitudes per layer instead of over all prunable " +
            "weights (magnitude, imp)" };
        var keepHead = new Option<bool>("--keep-head") { Description = "Leave the output layer dense (it is pruned like " +
            "the others by default)" };
        var seed = new Option<long?>("--seed") { Description = "Seed of random masks (random; default: the run's seed). With node: " +
            "choose the kept units at random with this seed instead of by weight norm" };
        var dnrSamples = new Option<int>("--dnr-samples") { Description = "Measure the dead-neuron rate on the first N training examples",
            DefaultValueFactory = _ => d.DnrSamples };
        var like = new Option<string?>("--like") { Description = "random: prune as many weights per layer as this prune run's mask " +
            "(IMP's per-layer density), instead of --sparsity" };
        var png = new Option<string?>("--png") { Description = "Also draw test accuracy and the dead-neuron rate against " +
            "sparsity into this PNG" };
        var name = new Option<string?>("--name") { Description = "A name for the round runs, shown by 'basin runs show'" };
        var tags = new Option<string[]>("--tag") { Description = "A label for the round runs ('basin runs list --tag T'); repeatable" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("prune", """
            Prune a finished training run and retrain with the mask kept applied; each round is recorded as a run (kind prune)
            with its mask, weights, per-epoch metrics and the dead-neuron rate (docs/pruning.md).
            Ctrl+C stops after a checkpoint; 'basin prune --resume ROUND_RUN' continues the job.
            Examples: basin prune RUN --method magnitude --sparsity 0.9 ;  basin prune RUN --method imp+ap --rounds 8 --rate 20
            """)
        { run, method, sparsity, like, rounds, rate, apRate, rewind, epochs, layerwise, keepHead, seed, dnrSamples, png, name, tags,
            resume, json, runs, threads };
        Option[] jobOptions = [method, sparsity, like, rounds, rate, apRate, rewind, epochs, layerwise, keepHead, seed, dnrSamples, png,
            name, tags];
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            if (nThreads is { } n) TorchSharp.torch.set_num_threads(n);
            var progress = new Sink(asJson ? _ => { } : Line);
            PruneJobResult result;
            if (pr.GetValue(resume) is { } roundRun)
            {
                var given = pr.GetValue(run) is not null ? "RUN"
                    : jobOptions.FirstOrDefault(o => pr.GetResult(o) is { Implicit: false })?.Name;
                if (given is not null)
                    throw new OptionException("--resume", "--resume continues a pruning job with its recorded settings: give no " +
                        $"{given} with it");
                using var resuming = RunStore.Open(pr.GetValue(runs)!);
                result = PruneJob.Resume(roundRun, resuming, progress, ct, nThreads);
                Show(result, asJson);
                return Cli.ExitOk;
            }
            var spec = new PruneSpec
            {
                SourceRun = pr.GetValue(run) ?? throw new OptionException("RUN", "give RUN, the training run to prune, or " +
                    "--resume ROUND_RUN"),
                Method = pr.GetValue(method)!,
                Sparsity = pr.GetValue(sparsity),
                LikeRun = pr.GetValue(like),
                Rounds = pr.GetValue(rounds),
                Rate = pr.GetValue(rate),
                ApRate = pr.GetValue(apRate),
                Rewind = pr.GetValue(rewind),
                Epochs = pr.GetValue(epochs),
                Layerwise = pr.GetValue(layerwise),
                PruneHead = !pr.GetValue(keepHead),
                Seed = pr.GetValue(seed),
                DnrSamples = pr.GetValue(dnrSamples),
                Png = pr.GetValue(png),
                Name = pr.GetValue(name),
                Tags = pr.GetValue(tags) is { Length: > 0 } t ? t : null,
            };
            using var store = RunStore.Open(pr.GetValue(runs)!);
            result = PruneJob.Run(spec, store, progress, ct, nThreads);
            Show(result, asJson);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Show(PruneJobResult result, bool asJson)
    {
        if (asJson) Console.WriteLine(Json.Serialize(result));
        else Render(result);
    }

    static void Line(TrainingEvent e)
    {
        switch (e)
        {
            case PruneRoundStarted s:
                Console.WriteLine($"round {s.Round}/{s.Of}: run {s.RunId}, sparsity {Pct(s.Sparsity)}" + (s.Resumed ? " (resumed)" : ""));
                break;
            case Resumed r:
                Console.WriteLine($"  continues from its checkpoint at epoch {r.Epoch}, batch {r.Batch}");
                break;
            case EpochDone d:
                Console.WriteLine($"  epoch {d.Metrics.Epoch}: train loss " +
                    $"{d.Metrics.TrainLoss.ToString("F4", CultureInfo.InvariantCulture)}, test acc " +
                    $"{TrainingView.Percent(d.Metrics.TestAccuracy)}, {d.Metrics.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s");
                break;
            case PruneRoundDone r:
                Console.WriteLine($"round {r.Result.Round}/{r.Of} done: sparsity {Pct(r.Result.Sparsity)}, test acc " +
                    $"{TrainingView.Percent(r.Result.TestAccuracy)}"
                    + (r.Result.Dnr is { } dnr ? $", DNR {Pct(dnr.Overall)}" : ""));
                break;
        }
    }

    static void Render(PruneJobResult r)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Method} on run {r.SourceRun} ({r.Model}, {r.Dataset}), rewind {r.Rewind}"));
        var t = new Table().AddColumns("round", "run", "sparsity (%)", TrainingView.TrainLoss, TrainingView.TestAccuracy, "DNR (%)",
            "DNR excl. structural (%)", "static dead (%)", "AP removed");
        foreach (var x in r.Rounds)
            t.AddRow(x.Round.ToString(CultureInfo.InvariantCulture), x.RunId, Points(x.Sparsity), x.TrainLoss.ToString("F4",
                CultureInfo.InvariantCulture), TrainingView.Points(x.TestAccuracy), x.Dnr is { } d ? Points(d.Overall) : "-",
                x.Dnr is { } e ? Points(e.OverallExcludingStructural) : "-", x.Dnr is { } f ? Points(f.StaticFraction) : "-",
                x.Ap is { } ap ? $"{ap.ApRemoved} of {ap.ApTarget}" : "-");
        AnsiConsole.Write(t);
        if (r.Rounds[^1].Nodes is { } nodes)
            AnsiConsole.MarkupLine(Markup.Escape($"node sparsity {Pct(nodes.Global)} (units kept: " +
                $"{string.Join(", ", nodes.Layers.Select(l => $"{l.Layer} {l.Kept}/{l.Units}"))}); weight sparsity " +
                $"{Pct(nodes.ParameterSparsity)}"));
    }

    static string Points(double x) => double.IsNaN(x) ? "-" : TrainingView.Points(x);

    static string Pct(double x) => double.IsNaN(x) ? "-" : (100 * x).ToString("F2", CultureInfo.InvariantCulture) + "%";

    sealed class Sink(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
