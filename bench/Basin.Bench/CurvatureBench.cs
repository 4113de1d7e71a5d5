using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Basin.Curvature;
using Basin.Data;
using Basin.IO;
using Basin.Models;
using TorchSharp;

namespace Basin.Bench;

/// <summary>
/// Whole-network curvature against PyHessian's way of computing it in PyTorch (issue 19, item 2), in one run on the
/// same trained LeNet-5 and the same 1,000 Fashion-MNIST examples: top-5 Hessian eigenvalues (Basin: Lanczos; PyTorch:
/// power iteration with deflation) and the trace by Hutchinson with 100 Rademacher probes, each in a fresh process so
/// that peak memory (VmHWM) is comparable (item 3). Prints time, Hessian-vector products and values side by side.
/// </summary>
public static class CurvatureBench
{
    public static int Main(List<string> args)
    {
        string? Opt(string name) => args.IndexOf(name) is var i and >= 0 && i + 1 < args.Count ? args[i + 1] : null;
        int Int(string name, int fallback) => Opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        int threads = Int("--threads", 2), examples = Int("--examples", 1000), probes = Int("--probes", 100), top = Int("--top", 5);
        int sketch = Int("--sketch", 20);
        if (args[0] == "curvature-child")
            return Child(Opt("--weights")!, Opt("--data")!, threads, probes, top, sketch,
                double.Parse(Opt("--target-se") ?? "0", CultureInfo.InvariantCulture));

        torch.set_num_threads(threads);
        Console.WriteLine($"curvature: LeNet-5 on {examples} Fashion-MNIST examples, all parameters, {threads} threads; load: {GeometryBench.Load()}");
        using var train = ImageDatasets.Load("fashion-mnist", Split.Train, samples: 10_000);
        using var model = ModelSpec.Create("lenet5", train.ExampleShape, train.ClassCount, seed: 1);
        GeometryBench.Train(model, train, epochs: 2);
        var folder = Directory.CreateTempSubdirectory("basin-bench-curvature-").FullName;
        try
        {
            var weights = Path.Combine(folder, "weights.safetensors");
            var data = Path.Combine(folder, "data.safetensors");
            Weights.Save(model, weights);
            using (var subset = train.Take(examples))
                SafeTensors.Save(data, [new("input", subset.Inputs), new("labels", subset.Labels)]);
            var child = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { System.Reflection.Assembly.GetEntryAssembly()!.Location, "curvature-child", "--weights", weights,
                         "--data", data, "--threads", Str(threads), "--probes", Str(probes), "--top", Str(top) })
                child.ArgumentList.Add(a);
            // PyTorch first: its trace's standard error is the accuracy Basin's deflated trace has to reach.
            JsonElement? torchSide = PyTorchScript.Available
                ? RunJson(PyTorchScript.Start("pyhessian_curvature.py", ["--weights", weights, "--data", data, "--threads", Str(threads),
                    "--probes", Str(probes), "--top", Str(top)]))
                : null;
            child.ArgumentList.Add("--sketch");
            child.ArgumentList.Add(Str(sketch));
            if (torchSide is { } ts)
            {
                child.ArgumentList.Add("--target-se");
                child.ArgumentList.Add(ts.GetProperty("traceSe").GetDouble().ToString("R", CultureInfo.InvariantCulture));
            }
            var basin = RunJson(child);
            Report(basin!.Value, torchSide);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Console.WriteLine($"load after: {GeometryBench.Load()}");
        return 0;
    }

    static string Str(int x) => x.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs a side of the comparison and returns its one JSON line, or null (with the reason printed) when it failed.</summary>
    static JsonElement? RunJson(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"{psi.FileName} failed ({p.ExitCode}): {error.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        var line = output.Result.Split('\n').Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>The child: loads the weights and examples, measures, prints one JSON line.</summary>
    static int Child(string weightsPath, string dataPath, int threads, int probes, int top, int sketch, double targetSe)
    {
        torch.set_num_threads(threads);
        using var data = TensorFile.Load(dataPath, 10);
        using var model = ModelSpec.Create("lenet5", data.ExampleShape, data.ClassCount, seed: 1);
        Weights.Load(model, weightsPath);
        model.eval();
        var parameters = ParameterSet.All(model);
        var options = new EstimateOptions
        {
            ChunkSize = (int)data.Count, EigenTolerance = 1e-6, MaxLanczosSteps = 100, ForceHutchinson = true, MinProbes = probes,
            MaxProbes = probes, RelativeStandardError = 0, Seed = 1,
        };
        // Each part builds its own operator (its gradient graph), as the PyTorch side builds its graph for each part.
        var clock = Stopwatch.StartNew();
        var eigen = CurvatureEstimates.TopEigenvalues(model, data, parameters, top, options);
        double topSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var trace = CurvatureEstimates.Trace(model, data, parameters, options);
        double traceSeconds = clock.Elapsed.TotalSeconds;
        // Deflated by a Lanczos sketch, probes until the standard error is at most the target (PyTorch's 100-probe one;
        // without PyTorch, the plain estimate's above).
        double target = targetSe > 0 ? targetSe : trace.StandardError;
        clock.Restart();
        long hwmBeforeDeflated = VmHwmKb();
        Estimate deflated;
        using (var op = (HessianVectorProduct)CurvatureEstimates.Hessian(model, data, parameters, options))
            deflated = HessianTrace.Deflated(op, sketch, relativeStandardError: 0, minProbes: 10, maxProbes: 1000, seed: 1,
                absoluteStandardError: target);
        double deflatedSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            method = "basin", topSeconds, topProducts = eigen.Products, eigenvalues = eigen.Values, traceSeconds, traceProducts = trace.Probes,
            trace = trace.Value, traceSe = trace.StandardError, deflatedSeconds, deflatedProducts = deflated.Products,
            deflatedProbes = deflated.Samples, deflated = deflated.Mean, deflatedSe = deflated.StandardError, sketch, targetSe = target,
            vmHwmKb = hwmBeforeDeflated, vmHwmDeflatedKb = VmHwmKb(),
        }));
        return 0;
    }

    static long VmHwmKb() => File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault(-1);

    static void Report(JsonElement basin, JsonElement? pytorch)
    {
        string Eig(JsonElement e) => string.Join(", ", e.GetProperty("eigenvalues").EnumerateArray().Select(v => v.GetDouble().ToString("G6",
            CultureInfo.InvariantCulture)));
        void Line(string name, JsonElement e) => Console.WriteLine(
            $"  {name,-18} top-{e.GetProperty("eigenvalues").GetArrayLength()}: {e.GetProperty("topSeconds").GetDouble(),7:F2} s, "
            + $"{e.GetProperty("topProducts").GetInt64(),4} products [{Eig(e)}]; trace: {e.GetProperty("traceSeconds").GetDouble(),6:F2} s, "
            + $"{e.GetProperty("traceProducts").GetInt64()} products, {e.GetProperty("trace").GetDouble():G6} ± "
            + $"{e.GetProperty("traceSe").GetDouble():G3}; peak RSS {e.GetProperty("vmHwmKb").GetInt64() / 1024.0:F0} MB");
        Line("Basin", basin);
        if (pytorch is not { } t)
        {
            Console.WriteLine("  PyTorch: skipped (install Debian's python3-torch for the side-by-side)");
            return;
        }
        Line($"PyTorch {t.GetProperty("torch").GetString()}", t);
        var eb = basin.GetProperty("eigenvalues").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var et = t.GetProperty("eigenvalues").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        double worst = eb.Zip(et, (a, b) => Math.Abs(a - b) / Math.Abs(a)).Max();
        double traceDiff = Math.Abs(basin.GetProperty("trace").GetDouble() - t.GetProperty("trace").GetDouble());
        double traceSe = Math.Sqrt(Math.Pow(basin.GetProperty("traceSe").GetDouble(), 2) + Math.Pow(t.GetProperty("traceSe").GetDouble(), 2));
        Console.WriteLine($"  top-5: Basin {t.GetProperty("topSeconds").GetDouble() / basin.GetProperty("topSeconds").GetDouble():F2}x "
            + $"faster (goal >= 1.5x), largest relative eigenvalue difference {worst:E1} (goal <= 1e-3)");
        Console.WriteLine($"  trace: Basin {t.GetProperty("traceSeconds").GetDouble() / basin.GetProperty("traceSeconds").GetDouble():F2}x "
            + $"faster; estimates differ by {traceDiff:G3} = {traceDiff / traceSe:F1} combined standard errors");
        Console.WriteLine($"  trace deflated by a {basin.GetProperty("sketch").GetInt32()}-step Lanczos sketch: "
            + $"{basin.GetProperty("deflatedSeconds").GetDouble():F2} s, {basin.GetProperty("deflatedProducts").GetInt64()} products "
            + $"({basin.GetProperty("deflatedProbes").GetInt32()} probes), {basin.GetProperty("deflated").GetDouble():G6} ± "
            + $"{basin.GetProperty("deflatedSe").GetDouble():G3} (target SE {basin.GetProperty("targetSe").GetDouble():G3}); Basin "
            + $"{t.GetProperty("traceSeconds").GetDouble() / basin.GetProperty("deflatedSeconds").GetDouble():F2}x faster than "
            + "PyTorch's 100-probe Hutchinson at equal standard error (goal >= 1.5x)");
        Console.WriteLine($"  peak memory: Basin / PyTorch = {basin.GetProperty("vmHwmKb").GetDouble() / t.GetProperty("vmHwmKb").GetDouble():F2} "
            + "(goal <= 1.2)");
    }
}
