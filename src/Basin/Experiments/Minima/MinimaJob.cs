using Basin.Minima;
using Basin.IO;
using Basin.Experiments;

namespace Basin.Experiments.Minima;

/// <summary>The classification of a split line, and where the small network came from.</summary>
public sealed record MinimaSplitResult(string Source, FitLoss Loss, int Samples, SplitClassification Classification);

/// <summary>An escape path, where the small network came from, and the PNG of its loss.</summary>
public sealed record MinimaEscapeResult(string Source, FitLoss Loss, int Samples, EscapeResult Escape, string PlotPath);

/// <summary>
/// A constructed case end to end: the classification, random-direction probes around each classified λ, the escape (fixture
/// only), the best of random restarts of the wider network, the PNG.
/// </summary>
public sealed record MinimaExampleResult(string Source, SplitClassification Classification, IReadOnlyList<ProbeResult> Probes,
    EscapeResult? Escape,
    RestartsResult? Restarts, string? PlotPath);

/// <summary>Options of <see cref="MinimaJob.Example"/>.</summary>
public sealed record MinimaExampleSpec
{
    public MinimaCase Case { get; init; } = MinimaCase.Fixture;
    public IReadOnlyList<double> Lambdas { get; init; } = [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5];
    /// <summary>Random Newton restarts of the split (wider) network, to show the split minimum is suboptimal (0: none).</summary>
    public int Restarts { get; init; } = 20;
    public long Seed { get; init; } = 1;
    /// <summary>Random directions probed around each classified λ (0: none).</summary>
    public int Probes { get; init; } = 1000;
    /// <summary>Their radius.</summary>
    public double ProbeRadius { get; init; } = 1e-3;
    public EscapeOptions Escape { get; init; } = new();
    /// <summary>Where the escape path's PNG goes (null: no plot).</summary>
    public string? PlotPath { get; init; } = "minima-escape.png";
}

/// <summary>
/// The jobs behind `basin minima`: classify the split line of a constructed case or a recorded run's MLP, escape from a split
/// minimum along a non-increasing path (with a PNG of the loss), and the constructed example end to end.
/// </summary>
public static class MinimaJob
{
    public static MinimaSplitResult Split(MinimaSource source, RunStore? store, int? layer, int? unit, IReadOnlyList<double> lambdas,
        IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var point = source.Load(store, ct);
        var c = SplitClassification.Classify(point.Net, point.Data, layer ?? point.Layer, unit ?? point.Unit, lambdas, null, progress);
        return new MinimaSplitResult(point.Name, point.Data.Loss, (int)point.Data.Count, c);
    }

    public static MinimaEscapeResult Escape(MinimaSource source, RunStore? store, int? layer, int? unit, EscapeOptions options,
        string plotPath,
        IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(plotPath);
        using var point = source.Load(store, ct);
        int l = layer ?? point.Layer, u = unit ?? point.Unit;
        point.Net.CheckUnit(l, u);
        double gradient = NetLoss.Norm(NetLoss.Gradient(point.Net, point.Data));
        if (!(gradient <= new SplitOptions().CriticalTolerance))
            throw new BasinException($"the starting point is not critical: ‖∇L‖ = {gradient:E3}, so the split " +
                "line is not a line of critical points; " +
                "polish it to a minimum first (Newton, --polish)");
        var escape = EscapePath.Run(point.Net, point.Data, l, u, options, progress, ct);
        EscapePlot.Save(escape, plotPath);
        return new MinimaEscapeResult(point.Name, point.Data.Loss, (int)point.Data.Count, escape, Path.GetFullPath(plotPath));
    }

    public static MinimaExampleResult Example(MinimaExampleSpec spec, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Restarts < 0) throw new BasinException($"restarts must be ≥ 0, got {spec.Restarts}");
        if (spec.Probes < 0) throw new BasinException($"probes must be ≥ 0, got {spec.Probes}");
        using var point = MinimaSource.Build(spec.Case);
        var c = SplitClassification.Classify(point.Net, point.Data, point.Layer, point.Unit, spec.Lambdas, null, progress);
        ProbeResult[] probes = spec.Probes == 0 ? [] : spec.Lambdas.Where(l => !SplitClassification.IsBoundary(l))
            .Select(l => RandomProbes.Run(point.Net, point.Data, point.Layer, point.Unit, l, spec.Probes, spec.ProbeRadius,
                spec.Seed)).ToArray();
        EscapeResult? escape = null;
        string? plot = null;
        if (spec.Case == MinimaCase.Fixture)
        {
            escape = EscapePath.Run(point.Net, point.Data, point.Layer, point.Unit, spec.Escape, progress, ct);
            if (spec.PlotPath is { } path)
            {
                EscapePlot.Save(escape, path);
                plot = Path.GetFullPath(path);
            }
        }
        RestartsResult? restarts = null;
        if (spec.Restarts > 0)
        {
            var wide = point.Net.Sizes.ToArray();
            wide[point.Layer]++;
            restarts = RandomFits.BestOfRestarts(wide, point.Net.Activation, point.Data, spec.Restarts, spec.Seed, progress: progress,
                ct: ct);
        }
        return new MinimaExampleResult(point.Name, c, probes, escape, restarts, plot);
    }
}
