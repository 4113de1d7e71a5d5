using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Basin.Data;
using Basin.Models;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Bench;

/// <summary>
/// Training throughput (examples per second) of Basin's trainer for LeNet-5, the small ResNet and an MLP 784-512-512-10,
/// SGD with momentum 0.9, batch 128, against (a) a plain TorchSharp loop with torch.optim.SGD and
/// (b) the same loop in PyTorch (bench/pytorch_train.py, if Debian's python3-torch is installed),
/// all at the same thread count in the same run. Only the update steps after a warm-up are timed.
/// </summary>
public static class TrainThroughput
{
    const int BatchSize = 128;
    const int Warmup = 20;

    public static void Run(int threads, int steps, int repeats)
    {
        torch.set_num_threads(threads);
        Console.WriteLine($"train-throughput: batch {BatchSize}, {steps} timed steps after {Warmup} warm-up, {threads} threads, best of {repeats}");
        Console.WriteLine($"{"model",-8} {"basin ex/s",12} {"torchsharp ex/s",16} {"pytorch ex/s",13} {"basin/torchsharp",17} {"basin/pytorch",14}");
        foreach (var model in new[] { "lenet5", "resnet", "mlp" })
        {
            double basin = 0, plain = 0, py = double.NaN;
            for (int r = 0; r < repeats; r++)
            {
                basin = Math.Max(basin, BasinTrainer(model, steps));
                plain = Math.Max(plain, PlainLoop(model, steps));
                var p = PyTorch(model, steps, threads);
                if (!double.IsNaN(p)) py = double.IsNaN(py) ? p : Math.Max(py, p);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model,-8} {basin,12:F0} {plain,16:F0} {(double.IsNaN(py) ? "n/a" : py.ToString("F0", CultureInfo.InvariantCulture)),13} {basin / plain,17:F3} {(double.IsNaN(py) ? "n/a" : (basin / py).ToString("F3", CultureInfo.InvariantCulture)),14}"));
        }
    }

    static Classifier Build(string model) => ModelSpec.Create(model == "mlp" ? "mlp:512,512" : model, [1, 28, 28], 10, seed: 0);

    static LabeledDataset Data(int count)
    {
        var gen = new torch.Generator(0);
        return new LabeledDataset("random", torch.rand([count, 1, 28, 28], generator: gen), torch.randint(0, 10, [count], generator: gen), 10);
    }

    static double BasinTrainer(string model, int steps)
    {
        using var net = Build(model);
        using var data = Data(BatchSize * 50);
        int total = Warmup + steps;
        int epochs = (total + 49) / 50;
        var config = new TrainingConfig(epochs, BatchSize, Seed: 0) { EvaluateEveryEpoch = false };
        var timer = new Stopwatch();
        long timedSteps = 0;
        var progress = new Sink(e =>
        {
            if (e is not BatchDone b) return;
            if (b.Step == Warmup) timer.Start();
            else if (b.Step > Warmup && b.Step <= total) { timedSteps++; if (b.Step == total) timer.Stop(); }
        });
        new Trainer(Recipe.Sgd(0.01, momentum: 0.9), config).Run(net, data, null, progress);
        return timedSteps * BatchSize / timer.Elapsed.TotalSeconds;
    }

    static double PlainLoop(string model, int steps)
    {
        using var net = Build(model);
        using var data = Data(BatchSize * 50);
        var opt = torch.optim.SGD(net.parameters(), 0.01, momentum: 0.9);
        var timer = new Stopwatch();
        net.train();
        for (int i = 0; i < Warmup + steps; i++)
        {
            if (i == Warmup) timer.Start();
            using var scope = torch.NewDisposeScope();
            int j = i % 50 * BatchSize;
            var x = data.Inputs.narrow(0, j, BatchSize);
            var y = data.Labels.narrow(0, j, BatchSize);
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(net.forward(x), y);
            loss.backward();
            opt.step();
            _ = loss.item<float>();
        }
        timer.Stop();
        return steps * BatchSize / timer.Elapsed.TotalSeconds;
    }

    static double PyTorch(string model, int steps, int threads)
    {
        if (!PyTorchScript.Available) return double.NaN;
        var psi = PyTorchScript.Start("pytorch_train.py", ["--model", model, "--steps", steps.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture)]);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) return double.NaN; // python3-torch not installed
        return JsonDocument.Parse(output).RootElement.GetProperty("examples_per_second").GetDouble();
    }

    sealed class Sink(Action<TrainingEvent> f) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => f(value);
    }
}
