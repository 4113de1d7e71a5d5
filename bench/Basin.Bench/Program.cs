using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Basin.Bench;

// Basin benchmarks: each prints ratios against a baseline measured in the same run.
//   dotnet run -c Release --project bench/Basin.Bench -- train-throughput [--threads 2] [--steps 200] [--repeats 3]
//   dotnet run -c Release --project bench/Basin.Bench -- geometry [--threads 2] [--repeats 3] [--eigen-samples 500]
//   dotnet run -c Release --project bench/Basin.Bench -- methods [--threads 2] [--steps 40] [--rounds 3] [--only NAME]
//   dotnet run -c Release --project bench/Basin.Bench -- curvature [--threads 2] [--examples 1000] [--probes 100] [--top 5]
//   dotnet run -c Release --project bench/Basin.Bench -- resnet-ops [--threads 2] [--repeats 30]
//   dotnet run -c Release --project bench/Basin.Bench -- landscape [--threads 2] [--steps 51] [--examples 2000] [--chunk N]
//   dotnet run -c Release --project bench/Basin.Bench -- sweep [--threads 1] [--repeats 2] [--epochs 8] [--workers-only] [--cli PATH]
var argsList = args.ToList();
string command = argsList.Count > 0 && !argsList[0].StartsWith("--") ? argsList[0] : "train-throughput";
int Opt(string name, int fallback)
{
    int i = argsList.IndexOf(name);
    return i >= 0 && i + 1 < argsList.Count ? int.Parse(argsList[i + 1], CultureInfo.InvariantCulture) : fallback;
}

switch (command)
{
    case "train-throughput":
        TrainThroughput.Run(threads: Opt("--threads", 2), steps: Opt("--steps", 200), repeats: Opt("--repeats", 3));
        return 0;
    case "geometry" or "geometry-memory-child": return GeometryBench.Main(argsList);
    case "curvature" or "curvature-child": return CurvatureBench.Main(argsList);
    case "resnet-ops": return ResNetOps.Run(threads: Opt("--threads", 2), repeats: Opt("--repeats", 30));
    case "methods":
        MethodsBench.Run(threads: Opt("--threads", 2), steps: Opt("--steps", 40), rounds: Opt("--rounds", 3), only: argsList.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault());
        return 0;
    case "sweep": SweepBench.Run(argsList.Contains("--cli") ? argsList[argsList.IndexOf("--cli") + 1] : ".basin/cli/Basin.Cli.dll", threads: Opt("--threads", 1), repeats: Opt("--repeats", 2), epochs: Opt("--epochs", 8), skipMeasures: argsList.Contains("--workers-only")); return 0;
    case "landscape": return LandscapeBench.Run(threads: Opt("--threads", 2), steps: Opt("--steps", 51), examples: Opt("--examples", 2000),
        chunk: Opt("--chunk", Basin.Experiments.Landscape.LandscapeSpec.DefaultChunkSize));
    default:
        Console.Error.WriteLine($"unknown benchmark '{command}' (known: train-throughput, geometry, curvature, resnet-ops, methods, sweep, landscape)");
        return 2;
}
