using System.CommandLine;
using System.Globalization;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>`basin gan interpolate RUN`: latent paths on a trained GAN, scored and drawn.</summary>
public static class GanInterpolateCommand
{
    static readonly GanInterpolationSpec D = new() { Run = "" };

    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "A GAN run id (or unique prefix) from 'basin gan train'" };
        var method = new Option<string>("--method") { Description = "linear, slerp, geodesic, realism-geodesic (formerly disc-geodesic), " +
            "paper, jacobian, a comma-separated list, or all", DefaultValueFactory = _ => "all" };
        var pairs = new Option<int>("--pairs") { Description = "Random endpoint pairs z0, z1 ~ N(0, I)",
            DefaultValueFactory = _ => D.Pairs };
        var steps = new Option<int>("--steps") { Description = "Segments per path (steps + 1 points)", DefaultValueFactory = _ => D.Steps };
        var seed = new Option<long>("--seed") { Description = "Seed of the endpoint pairs", DefaultValueFactory = _ => D.Seed };
        var iterations = new Option<int>("--geodesic-iterations") { Description = "Adam iterations of the geodesic optimizations",
            DefaultValueFactory = _ => D.GeodesicIterations };
        var lr = new Option<double>("--geodesic-lr") { Description = "Adam learning rate of the geodesic optimizations (cosine-decayed)",
            DefaultValueFactory = _ => D.GeodesicLearningRate };
        var beta = new Option<double>("--beta") { Description = "β of the realism weight h(d) = 1 + β·softplus(−(d − D_ref)/s)",
            DefaultValueFactory = _ => D.Beta };
        var degree = new Option<int>("--degree") { Description = "paper, jacobian: degree of the polynomial latent paths",
            DefaultValueFactory = _ => D.Degree };
        var map = new Option<string>("--probability-map") { Description = "paper: critic score s → probability D: standardized-sigmoid " +
            "(σ((s − m)/σ) with m, σ from real data) or sigmoid (σ(s))", DefaultValueFactory = _ => "standardized-sigmoid" };
        var bound = new Option<double>("--latent-bound") { Description = "paper, jacobian: the out-of-domain penalty Σ(exp(max(|z_j| " +
            "− b, 0)) − 1) starts at b", DefaultValueFactory = _ => D.LatentBound };
        var oodWeight = new Option<double>("--ood-weight") { Description = "paper, jacobian: weight of the out-of-domain penalty (0: off)",
            DefaultValueFactory = _ => D.OutOfDomainWeight };
        var classifier = new Option<string?>("--classifier") { Description = "fashion-mnist: classifier run id or weights file; scores " +
            "its confidence along each path" };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUNS/RUN/interpolation-seedS)" };
        var json = Options.Json();
        var runs = Options.Runs();
        var threads = Options.Threads();
        var cmd = new Command("interpolate", """
            Interpolate between random latent codes of a trained GAN (linear, spherical, pull-back geodesic, Basin's
            realism-weighted geodesic, the paper authors' discriminator-aware geodesic and its Jacobian baseline) and score each path:
            """ + " length in sample space, critic score along it (min, mean),\n" + """
            classifier confidence (with --classifier). Writes results.json and PNGs (toy: paths over the data; images: strips).
            Example: basin gan interpolate 20261122-1701 --method all --pairs 50 --steps 16 --seed 0
            """) { run, method, pairs, steps, seed, iterations, lr, beta, degree, map, bound, oodWeight, classifier, output, json, runs,
            threads };
        cmd.SetAction((pr, ct) => Task.Run(() =>
        {
            bool asJson = pr.GetValue(json);
            var spec = new GanInterpolationSpec
            {
                Run = pr.GetValue(run)!,
                Methods = pr.GetValue(method)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Pairs = pr.GetValue(pairs), Steps = pr.GetValue(steps), Seed = pr.GetValue(seed),
                GeodesicIterations = pr.GetValue(iterations), GeodesicLearningRate = pr.GetValue(lr), Beta = pr.GetValue(beta),
                Degree = pr.GetValue(degree), ProbabilityMap = Basin.Gan.CriticProbability.Parse(pr.GetValue(map)!),
                LatentBound = pr.GetValue(bound), OutOfDomainWeight = pr.GetValue(oodWeight), Classifier = pr.GetValue(classifier),
                Output = pr.GetValue(output),
            };
            int? nThreads = Threads.FromOption(pr.GetValue(threads));
            using var store = RunStore.Open(pr.GetValue(runs)!);
            var result = GanView.Run(asJson, "gan interpolate", p => GanInterpolationJob.Run(spec, store, p, ct, nThreads));
            if (asJson) Console.WriteLine(Json.Serialize(new { result.RunId, result.Dataset, result.OutputFolder, result.JsonPath,
                result.Realism, result.Probability, result.Summary, result.Plots }));
            else Render(result);
            return Cli.ExitOk;
        }, ct));
        return cmd;
    }

    static void Render(GanInterpolationResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var t = new Table().AddColumns("method", "pairs", "length", "energy", "critic min", "critic mean", "confidence min",
            "confidence mean");
        foreach (var s in r.Summary)
            t.AddRow(s.Method, s.Pairs.ToString(inv), s.MeanLength.ToString("F4", inv), s.MeanEnergy.ToString("F4", inv),
                s.MeanCriticMin.ToString("F4", inv), s.MeanCriticMean.ToString("F4", inv), s.MeanConfidenceMin?.ToString("F3", inv) ?? "-",
                s.MeanConfidenceMean?.ToString("F3", inv) ?? "-");
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine($"results: {Markup.Escape(r.JsonPath)}");
        foreach (var p in r.Plots) AnsiConsole.MarkupLine($"plot: {Markup.Escape(p)}");
    }
}
