using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Bench;

/// <summary>
/// Where the small ResNet's training time goes (issue 19, item 1): forward and backward time of each convolution and
/// batch-norm shape of the network at batch 128 in TorchSharp (libtorch 2.10) and in PyTorch (bench/resnet_ops.py),
/// same threads, same run; medians over repeats.
/// </summary>
public static class ResNetOps
{
    /// <summary>The layer shapes, as bench/resnet_ops.py lists them: name, kind, in, out, kernel, stride, input side.</summary>
    static readonly (string Name, string Kind, int In, int Out, int Kernel, int Stride, int Side)[] Layers =
    [
        ("conv1 1-16 3x3", "conv", 1, 16, 3, 1, 28), ("bn 16 @28", "bn", 16, 16, 0, 1, 28),
        ("block conv 16-16 3x3", "conv", 16, 16, 3, 1, 28), ("conv 16-32 3x3 s2", "conv", 16, 32, 3, 2, 28),
        ("conv 32-32 3x3", "conv", 32, 32, 3, 1, 14), ("downsample 16-32 1x1 s2", "conv", 16, 32, 1, 2, 28),
        ("bn 32 @14", "bn", 32, 32, 0, 1, 14), ("conv 32-64 3x3 s2", "conv", 32, 64, 3, 2, 14),
        ("conv 64-64 3x3", "conv", 64, 64, 3, 1, 7), ("downsample 32-64 1x1 s2", "conv", 32, 64, 1, 2, 14),
        ("bn 64 @7", "bn", 64, 64, 0, 1, 7),
    ];

    public static int Run(int threads, int repeats)
    {
        const int batch = 128;
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        Console.WriteLine($"resnet-ops: batch {batch}, {threads} threads, median of {repeats}; load: {GeometryBench.Load()}");
        var basin = new Dictionary<string, (double Forward, double Backward)>();
        foreach (var (name, kind, cin, cout, k, stride, side) in Layers)
        {
            using var scope = torch.NewDisposeScope();
            nn.Module<Tensor, Tensor> layer = kind == "conv"
                ? nn.Conv2d(cin, cout, k, stride: stride, padding: k / 2, bias: false) : nn.BatchNorm2d(cin);
            layer.train();
            var x = torch.rand([batch, cin, side, side]).requires_grad_();
            var grad = torch.rand_like(layer.forward(x));
            var fwd = new List<double>();
            var bwd = new List<double>();
            for (int r = 0; r < repeats + 5; r++)
            {
                using var inner = torch.NewDisposeScope();
                var clock = Stopwatch.StartNew();
                var y = layer.forward(x);
                double f = clock.Elapsed.TotalMilliseconds;
                y.backward([grad]);
                double b = clock.Elapsed.TotalMilliseconds - f;
                x.grad?.Dispose();
                x.grad = null;
                layer.zero_grad();
                if (r >= 5) { fwd.Add(f); bwd.Add(b); }
            }
            basin[name] = (Median(fwd), Median(bwd));
            layer.Dispose();
        }
        var torchSide = new Dictionary<string, (double Forward, double Backward)>();
        if (PyTorchScript.Available)
        {
            using var p = Process.Start(PyTorchScript.Start("resnet_ops.py", ["--threads", Str(threads), "--repeats", Str(repeats)]))!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            foreach (var line in output.Split('\n').Where(l => l.StartsWith('{')))
            {
                var e = JsonDocument.Parse(line).RootElement;
                torchSide[e.GetProperty("layer").GetString()!] = (e.GetProperty("forwardMs").GetDouble(), e.GetProperty("backwardMs").GetDouble());
            }
        }
        Console.WriteLine($"{"layer",-26} {"basin fwd",10} {"torch fwd",10} {"basin bwd",10} {"torch bwd",10} {"basin/torch",12}");
        double totalBasin = 0, totalTorch = 0;
        foreach (var (name, _, _, _, _, _, _) in Layers)
        {
            var b = basin[name];
            var hasTorch = torchSide.TryGetValue(name, out var t);
            totalBasin += b.Forward + b.Backward;
            if (hasTorch) totalTorch += t.Forward + t.Backward;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-26} {b.Forward,10:F3} {(hasTorch ? t.Forward : double.NaN),10:F3} " +
                $"{b.Backward,10:F3} {(hasTorch ? t.Backward : double.NaN),10:F3} {(hasTorch ? (b.Forward + b.Backward) / (t.Forward + t.Backward) : double.NaN),12:F2}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"all (time, ms)",-26} basin {totalBasin:F2}, torch {totalTorch:F2}: " +
            $"basin/torch {totalBasin / totalTorch:F2} (> 1: Basin's libtorch is slower)"));
        Console.WriteLine($"load after: {GeometryBench.Load()}");
        return 0;
    }

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static string Str(int x) => x.ToString(CultureInfo.InvariantCulture);
}
