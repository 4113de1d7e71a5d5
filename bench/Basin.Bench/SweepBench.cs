using System.Diagnostics;
using System.Globalization;
using Basin.Measures;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Experiments.Sweeps;
using TorchSharp;

namespace Basin.Bench;

/// <summary>
/// Sweep benchmarks: (1) seconds per model for every measure on a trained LeNet-5 (Fashion-MNIST, 2000 examples,
/// measures on 1000 of them), one thread; (2) wall time of one small sweep (LeNet-5, 8 points of ~10 s each) with
/// `--workers 1` (in process; all cores, and one thread) and `--workers 2` (two CLI worker processes, one thread
/// each), best of <c>repeats</c> runs taken in turns after one warm-up run, and the speed-ups, measured in the same
/// run. Needs the CLI built (./basin builds it into .basin/cli).
/// </summary>
public static class SweepBench
{
    /// <param name="epochs">Training epochs per sweep point (8: ≈ 6 s per point on one thread; more amortizes worker start-up).</param>
    /// <param name="skipMeasures">Only the worker speed-up.</param>
    public static void Run(string cli, int threads, int repeats, int epochs = 8, bool skipMeasures = false)
    {
        Console.WriteLine($"sweep: load {File.ReadAllText("/proc/loadavg").Trim()} (1/5/15-min load, running/total tasks)");
        if (!skipMeasures) MeasureTimes(threads);
        WorkerSpeedup(cli, repeats, epochs);
        Console.WriteLine($"sweep: load at the end {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    static void MeasureTimes(int threads)
    {
        torch.set_num_threads(threads);
        var folder = Path.Combine(Path.GetTempPath(), "basin-bench-measures-" + Guid.NewGuid().ToString("N")[..8]);
        using var store = Basin.Experiments.RunStore.Open(folder);
        var spec = new TrainJobSpec { Model = "lenet5", Samples = 2000, TestSamples = 1000, Epochs = 5, BatchSize = 64, Seed = 1 };
        var trained = TrainingJob.Run(spec, store, threads: threads);
        var (train, test) = TrainingJob.LoadData(spec);
        test.Dispose();
        using var data = train.Take(1000);
        using var model = Basin.Models.ModelSpec.Create(spec.Model, train.ExampleShape, train.ClassCount, spec.Seed);
        Basin.IO.Weights.Load(model, trained.WeightsPath);
        using var init = Basin.Models.ModelSpec.Create(spec.Model, train.ExampleShape, train.ClassCount, spec.Seed);
        var context = new MeasureContext(model, data) { Initial = init, Curve = [new CurvePoint(trained.Figures.Steps, trained.Figures.TrainLoss)] };
        Console.WriteLine($"measures on lenet5, 1000 examples, {threads} thread(s):");
        double total = 0;
        foreach (var m in MeasureRegistry.All)
        {
            var clock = Stopwatch.StartNew();
            m.Compute(context);
            double s = clock.Elapsed.TotalSeconds;
            total += s;
            Console.WriteLine($"  {m.Name,-32} {s,8:F3} s");
        }
        Console.WriteLine($"  {"all measures",-32} {total,8:F2} s per model (×2 with the reparametrized copy)");
        train.Dispose();
    }

    static void WorkerSpeedup(string cli, int repeats, int epochs)
    {
        if (!File.Exists(cli)) { Console.WriteLine($"worker speed-up: skipped, {cli} not found (run ./basin once to build it)"); return; }
        string SweepFile(string name) => $$"""
            { "name": "{{name}}",
              "base": { "model": "lenet5", "samples": 2000, "testSamples": 1000, "epochs": {{epochs}}, "batchSize": 64 },
              "axes": { "learningRate": [0.01, 0.05], "seed": [1, 2, 3, 4] },
              "measures": ["params", "inverse-margin", "relative-flatness", "relative-flatness-normalized", "fisher-rao", "lambda-max-head", "hessian-trace-all"] }
            """;
        double Time(int workers, int threadsPerWorker)
        {
            var dir = Path.Combine(Path.GetTempPath(), "basin-bench-sweep-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, "s.json");
            File.WriteAllText(file, SweepFile("bench"));
            var sweep = Basin.Experiments.Sweeps.SweepFile.Load(file);
            var clock = Stopwatch.StartNew();
            var result = SweepRunner.Run(sweep, Path.Combine(dir, "runs"), new SweepRunOptions { Workers = workers, ThreadsPerWorker = threadsPerWorker },
                (index, t) =>
                {
                    // As `basin sweep run` starts its workers (SweepCommand.StartWorker), thread-count variables included.
                    var psi = new ProcessStartInfo("dotnet")
                    {
                        ArgumentList = { cli, "sweep", "worker", file, "--runs", Path.Combine(dir, "runs"), "--worker", index.ToString(CultureInfo.InvariantCulture), "--threads", t.ToString(CultureInfo.InvariantCulture) },
                        RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                    };
                    SweepRunner.PrepareWorkerEnvironment(psi, t);
                    return Process.Start(psi)!;
                });
            if (result.Open != 0) throw new InvalidOperationException($"bench sweep left {result.Open} points open");
            return clock.Elapsed.TotalSeconds;
        }
        // The commands as a user types them: `basin sweep run FILE --workers W --threads T`, start-up included.
        double TimeCli(int workers, int threadsPerWorker)
        {
            var dir = Path.Combine(Path.GetTempPath(), "basin-bench-sweep-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, "s.json");
            File.WriteAllText(file, SweepFile("bench"));
            var psi = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { cli, "sweep", "run", file, "--runs", Path.Combine(dir, "runs"), "--workers", workers.ToString(CultureInfo.InvariantCulture),
                    "--threads", threadsPerWorker.ToString(CultureInfo.InvariantCulture), "--json" },
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            psi.Environment[Basin.Native.MallocTunables.Variable] = Basin.Native.MallocTunables.ForChild();
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"basin sweep run failed ({p.ExitCode}): {stderr.Result}");
            return clock.Elapsed.TotalSeconds;
        }
        int cores = Environment.ProcessorCount;
        Time(2, Math.Max(1, cores / 2));   // warm-up: page cache, JIT of the CLI
        double one = double.PositiveInfinity, oneSingle = double.PositiveInfinity, two = double.PositiveInfinity;
        double cliOne = double.PositiveInfinity, cliTwo = double.PositiveInfinity;
        for (int r = 0; r < repeats; r++)
        {
            one = Math.Min(one, Time(1, cores));
            two = Math.Min(two, Time(2, Math.Max(1, cores / 2)));
            oneSingle = Math.Min(oneSingle, Time(1, 1));
            cliOne = Math.Min(cliOne, TimeCli(1, 1));
            cliTwo = Math.Min(cliTwo, TimeCli(2, Math.Max(1, cores / 2)));
        }
        Console.WriteLine($"worker speed-up, 8 lenet5 points (train {epochs} epochs on 2000 examples + 7 measures ×2 variants), {cores} cores, best of {repeats}:");
        Console.WriteLine($"  --workers 1 --threads {cores}: {one,7:F1} s");
        Console.WriteLine($"  --workers 1 --threads 1: {oneSingle,7:F1} s");
        Console.WriteLine($"  --workers 2 --threads {Math.Max(1, cores / 2)}: {two,7:F1} s");
        Console.WriteLine($"  speed-up of 2 workers over 1 (all cores): {one / two:F2}×; over 1 (one thread): {oneSingle / two:F2}×");
        Console.WriteLine($"  as commands (`basin sweep run`, process start included): --workers 1 --threads 1 {cliOne:F1} s, " +
            $"--workers 2 --threads {Math.Max(1, cores / 2)} {cliTwo:F1} s, speed-up {cliOne / cliTwo:F2}×");
    }
}
