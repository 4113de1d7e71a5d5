using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.IO;
using Basin.Models;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Bench;

/// <summary>
/// Geometry benchmarks of issue 3, ratios measured in one run on real Fashion-MNIST:
/// (a) relative flatness of LeNet-5's fc3 (10×84) over 10,000 examples, the curvature part on precomputed features:
///     the closed form against the reference code's method (one double backward per weight entry, 840 of them);
/// (b) the whole measurement (forward pass included) against one plain forward pass over the same data;
/// (c) top-5 Hessian eigenvalues of the whole LeNet-5 to 1e-3 relative: Hessian-vector products of Lanczos against
///     power iteration with deflation;
/// (d) peak RSS (VmHWM) of measuring over 60,000 against 6,000 examples, each in a fresh child process.
/// LeNet-5 is first trained briefly (2 epochs of SGD, momentum 0.9, on the 10,000 examples), so the Hessian is
/// that of a network near a minimum rather than at initialization.
/// </summary>
public static class GeometryBench
{
    const int Examples = 10_000;

    /// <summary>
    /// dotnet run -c Release --project bench/Basin.Bench -- geometry [--threads 2] [--repeats 3] [--eigen-samples 500]
    /// (geometry-memory-child --samples N --weights F is the child process of (d)).
    /// </summary>
    public static int Main(List<string> args)
    {
        string? Opt(string name) => args.IndexOf(name) is var i and >= 0 && i + 1 < args.Count ? args[i + 1] : null;
        int Int(string name, int fallback) => Opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        if (args[0] == "geometry-memory-child")
            return MemoryChild(Int("--samples", 6000), Opt("--weights") ?? throw new ArgumentException("--weights is required"), Int("--threads", 2));
        return Run(Int("--threads", 2), Int("--repeats", 3), Int("--eigen-samples", 500));
    }

    public static int Run(int threads, int repeats, int eigenSamples)
    {
        torch.set_num_threads(threads);
        Console.WriteLine($"geometry: LeNet-5 on Fashion-MNIST, {threads} threads, best of {repeats}; load: {Load()}");
        using var data = ImageDatasets.Load("fashion-mnist", Split.Train, samples: Examples);
        using var model = ModelSpec.Create("lenet5", data.ExampleShape, data.ClassCount, seed: 1);
        var clock = Stopwatch.StartNew();
        Train(model, data, epochs: 2);
        Console.WriteLine($"trained 2 epochs in {clock.Elapsed.TotalSeconds:F1} s; train loss {MeanLoss(model, data):F4}");
        model.eval();

        CurvaturePart(model, data, repeats);
        WholeMeasurement(model, data, repeats);
        TopEigenvalues(model, data, eigenSamples);
        var weights = Path.Combine(Path.GetTempPath(), $"basin-bench-lenet-{Environment.ProcessId}.safetensors");
        Weights.Save(model, weights);
        try { Memory(weights, threads); }
        finally { File.Delete(weights); }
        Console.WriteLine($"load after: {Load()}");
        return 0;
    }

    internal static void Train(Classifier model, LabeledDataset data, int epochs)
    {
        model.train();
        using var optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum: 0.9);
        using var generator = new torch.Generator(7);
        for (int e = 0; e < epochs; e++)
        {
            using var order = torch.randperm(data.Count, generator: generator);
            for (long start = 0; start < data.Count; start += 128)
            {
                using var scope = torch.NewDisposeScope();
                var idx = order.narrow(0, start, Math.Min(128, data.Count - start));
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(data.Inputs.index_select(0, idx)), data.Labels.index_select(0, idx)).backward();
                optimizer.step();
            }
        }
    }

    internal static double MeanLoss(Classifier model, LabeledDataset data)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return nn.functional.cross_entropy(model.forward(data.Inputs), data.Labels).ToDouble();
    }

    static double Best(int repeats, Action action)
    {
        double best = double.PositiveInfinity;
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>(a) κ_Tr from the same features: closed form vs one double backward per weight entry.</summary>
    static void CurvaturePart(Classifier model, LabeledDataset data, int repeats)
    {
        using var scope = torch.NewDisposeScope();
        Tensor phi;
        using (torch.no_grad()) phi = model.Features(data.Inputs);
        var w = model.Head.weight!.detach().clone();
        var b = model.Head.bias!.detach().clone();
        double closed = 0, baseline = 0;
        double closedSeconds = Best(10 * repeats, () => { using var k = RelativeFlatness.TraceTerm(phi, w, b); closed = k.ToDouble(); });
        double baselineSeconds = Best(1, () => baseline = PerEntryDoubleBackward(phi, w, b, data.Labels));
        Console.WriteLine($"(a) curvature part, fc3 10x84, {data.Count} examples: closed form {closedSeconds * 1e3:F2} ms, per-entry double backward (840) {baselineSeconds:F2} s; " +
            $"speed-up {baselineSeconds / closedSeconds:F0}x (goal >= 100x); κ {closed:G8} vs {baseline:G8} (relative difference {Math.Abs(closed - baseline) / baseline:E1})");
    }

    /// <summary>The reference code's way: the gradient with its graph, then the gradient of each of its d·m entries (one Hessian row each).</summary>
    static double PerEntryDoubleBackward(Tensor phi, Tensor weight, Tensor bias, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var w = weight.clone().requires_grad_(true);
        var loss = nn.functional.cross_entropy(nn.functional.linear(phi, w, bias), labels);
        var g = torch.autograd.grad([loss], [w], null, retain_graph: true, create_graph: true)[0].reshape(-1);
        long d = w.shape[0], m = w.shape[1], n = d * m;
        var h = torch.empty(n, n, w.dtype);
        for (long i = 0; i < n; i++)
        {
            using var row = torch.NewDisposeScope();
            h[TensorIndex.Single(i)] = torch.autograd.grad([g[i]], [w], null, retain_graph: true, create_graph: false)[0].reshape(-1);
        }
        var t = h.reshape(d, m, d, m).diagonal(0, 1, 3).sum(-1);   // T[s,t] = Σ_k H[(s,k),(t,k)]
        var w64 = weight.to_type(ScalarType.Float64);
        return w64.mm(w64.T).mul(t.to_type(ScalarType.Float64)).sum().ToDouble();
    }

    /// <summary>(b) The measurement from the data (features in chunks + closed form) vs one plain forward pass in the same chunks.</summary>
    static void WholeMeasurement(Classifier model, LabeledDataset data, int repeats)
    {
        const int chunk = 1000;
        double forwardSeconds = Best(repeats, () =>
        {
            using var noGrad = torch.no_grad();
            for (long start = 0; start < data.Count; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                model.forward(data.Inputs.narrow(0, start, Math.Min(chunk, data.Count - start)));
            }
        });
        double kappa = 0;
        double measureSeconds = Best(repeats, () => kappa = RelativeFlatness.Measure(model, data, options: new FlatnessOptions { ChunkSize = chunk }).Value);
        GeometrySummary? summary = null;
        double summarySeconds = Best(repeats, () => summary = MeasureJob.Summarize(model, data, Examples));
        Console.WriteLine($"(b) whole measurement, {data.Count} examples: plain forward {forwardSeconds:F3} s, relative flatness {measureSeconds:F3} s; " +
            $"ratio {measureSeconds / forwardSeconds:F2} (goal <= 1.5); κ {kappa:G6}");
        Console.WriteLine($"    summary (κ, exact trace, λ_max by Lanczos on cached features) {summarySeconds:F3} s = {summarySeconds / forwardSeconds:F2} forward passes: " +
            $"κ {summary!.RelativeFlatness:G6}, Tr {summary.HessianTrace:G6}, λ_max {summary.LambdaMax:G6}");
    }

    /// <summary>(c) Products needed for the top 5 eigenvalues of the whole network to 1e-3 relative.</summary>
    static void TopEigenvalues(Classifier model, LabeledDataset data, int samples)
    {
        const int k = 5;
        const double accuracy = 1e-3;
        using var subset = data.Take(samples);
        using var hvp = new HessianVectorProduct(model, subset, ParameterSet.All(model), new CurvatureOptions { ChunkSize = samples });
        // One tight Lanczos run gives the reference values and, from its per-step Ritz values, the first step at which
        // all k were within 1e-3 of them (each step is one product).
        var history = new List<(int Step, double[] Values)>();
        var clock = Stopwatch.StartNew();
        var reference = Lanczos.TopEigenvalues(hvp, k, tolerance: 1e-10, maxSteps: 300, seed: 0, onStep: (step, values) => history.Add((step, values.ToArray())));
        double perProduct = clock.Elapsed.TotalSeconds / reference.Products;
        bool Accurate(IReadOnlyList<double> values) => values.Count == k && values.OrderByDescending(v => v).Zip(reference.Values).All(p => Math.Abs(p.First - p.Second) <= accuracy * Math.Abs(p.Second));
        int lanczosSteps = history.FirstOrDefault(h => Accurate(h.Values)).Step;
        // Power iteration: PyHessian's stopping rule (relative change of the Rayleigh quotient < tol); tighten tol until accurate.
        var lines = new List<string>();
        long powerProducts = -1;
        foreach (var tol in new[] { 1e-3, 1e-4, 1e-5 })
        {
            var p = PowerIteration.TopEigenvalues(hvp, k, tol, maxIterations: 500, seed: 0);
            bool ok = Accurate(p.Values);
            lines.Add($"tol {tol:E0}: {p.Products} products, {(ok ? "accurate" : "NOT within 1e-3")}");
            if (ok) { powerProducts = p.Products; break; }
        }
        Console.WriteLine($"(c) top-{k} of all {hvp.Dimension} parameters on {samples} examples ({perProduct * 1e3:F0} ms per product): " +
            $"reference λ = {string.Join(", ", reference.Values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))} (Lanczos to residual 1e-10: {reference.Products} products, converged {reference.Converged})");
        Console.WriteLine($"    Lanczos reaches 1e-3 after {lanczosSteps} products; power iteration with deflation: {string.Join("; ", lines)}; " +
            $"ratio {(powerProducts > 0 && lanczosSteps > 0 ? ((double)lanczosSteps / powerProducts).ToString("F2", CultureInfo.InvariantCulture) : "n/a")} (goal <= 0.5)");
    }

    /// <summary>(d) Peak RSS of the default measurement in fresh child processes.</summary>
    static void Memory(string weights, int threads)
    {
        var results = new Dictionary<int, (long Kb, string Line)>();
        foreach (var n in new[] { 6_000, 60_000 })
        {
            var psi = ChildStart("geometry-memory-child", "--samples", n.ToString(CultureInfo.InvariantCulture), "--weights", weights, "--threads", threads.ToString(CultureInfo.InvariantCulture));
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("VmHWM_kB=", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"child for {n} failed (exit {p.ExitCode}): {output}{error}");
            var fields = line.Split(' ');
            results[n] = (long.Parse(fields[0]["VmHWM_kB=".Length..], CultureInfo.InvariantCulture), line);
        }
        double ratio = (double)results[60_000].Kb / results[6_000].Kb;
        Console.WriteLine($"(d) peak RSS (VmHWM) of measuring (default measures on fc3 + one chunked whole-network Hessian-vector product): " +
            $"6,000 examples {results[6_000].Kb / 1024.0:F0} MiB, 60,000 examples {results[60_000].Kb / 1024.0:F0} MiB; ratio {ratio:F2} (goal <= 2)");
        foreach (var (n, r) in results) Console.WriteLine($"    {n}: {r.Line}");
    }

    /// <summary>The child of (d): loads N examples and the weights, measures, prints VmHWM.</summary>
    public static int MemoryChild(long samples, string weights, int threads)
    {
        torch.set_num_threads(threads);
        var clock = Stopwatch.StartNew();
        using var data = ImageDatasets.Load("fashion-mnist", Split.Train, samples: samples);
        using var model = ModelSpec.Create("lenet5", data.ExampleShape, data.ClassCount, seed: 1);
        Weights.Load(model, weights);
        var r = MeasureJob.Measure(model, data, new MeasureSpec { Samples = null });
        using (var hvp = new HessianVectorProduct(model, data, ParameterSet.All(model)))
        using (var scope = torch.NewDisposeScope())
        using (var g = new torch.Generator(3))
            hvp.Apply(ParamVectors.Rademacher(hvp.Shapes, hvp.DType, g));
        var status = File.ReadAllLines("/proc/self/status");
        string Field(string name) => status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(':', 2)[1].Trim().Split(' ')[0];
        var l = r.Layers[0];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"VmHWM_kB={Field("VmHWM")} samples={samples} seconds={clock.Elapsed.TotalSeconds:F1} kappa={l.RelativeFlatness!.Value:G6} trace={l.HessianTrace!.Value:G6} lambda_max={l.TopEigen!.Values[0]:G6}"));
        return 0;
    }

    static ProcessStartInfo ChildStart(params string[] args)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    internal static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
