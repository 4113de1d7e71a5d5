using System.CommandLine;
using Basin.Data;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin eval`: loss and accuracy of saved weights on a data split.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "Evaluate the weights of this recorded run (id or unique prefix)" };
        var weights = new Option<string?>("--weights") { Description = "Evaluate this safetensors file (PyTorch-style " +
            "names, e.g. fc3.weight)" };
        var model = new Option<string?>("--model") { Description = "Model of the weights (default: from the run or the file's " +
            "metadata), e.g. lenet5" };
        var dataset = new Option<string?>("--dataset") { Description = "Data set (default: the run's, else fashion-mnist)" };
        var data = new Option<string?>("--data") { Description = "Folder with the IDX files" };
        var split = new Option<string>("--split") { Description = "train or test", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("train", "test");
        var samples = new Option<long?>("--samples") { Description = "Use the first N examples of the split (default: all)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("eval", """
            Evaluate saved weights: mean cross-entropy and accuracy on a split.
            Examples: basin eval --run 20261122-1701 ;  basin eval --weights lenet.safetensors --model lenet5 --split test
            """) { run, weights, model, dataset, data, split, samples, json, runs, threads };
        cmd.SetAction(pr =>
        {
            if (Threads.FromOption(pr.GetValue(threads)) is { } n) TorchSharp.torch.set_num_threads(n);
            using var store = pr.GetValue(run) is not null ? RunStore.Open(pr.GetValue(runs)!) : null;
            var r = EvaluationJob.Run(pr.GetValue(run), store, pr.GetValue(weights), pr.GetValue(model), pr.GetValue(dataset),
                pr.GetValue(split) == "train" ? Split.Train : Split.Test, pr.GetValue(data), pr.GetValue(samples));
            if (pr.GetValue(json)) { Console.WriteLine(Json.Serialize(r)); return Cli.ExitOk; }
            var t = new Table().AddColumns("model", "data", "split", "examples", "loss (nats)", "accuracy (%)");
            t.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Dataset), r.Split, r.Count.ToString(), r.Loss.ToString("F4"),
                TrainingView.Points(r.Accuracy));
            AnsiConsole.Write(t);
            return Cli.ExitOk;
        });
        return cmd;
    }
}
