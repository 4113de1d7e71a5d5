using System.Diagnostics;
using Basin.Curvature;
using Basin.Data;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Experiments.Geometry;

/// <summary>The most curvature products one "layer measure" pair of <see cref="MeasureJob"/> can take.</summary>
public sealed record PairCost(string Layer, string Measure, long Products);

/// <summary>
/// An upper bound on what a geometry measurement costs, before it starts: the most Hessian-vector products (or their
/// equivalent in forward passes) each pair can take, and the seconds one product took on the data, timed once on the
/// whole network. Estimators stop early once precise enough, so the work usually takes less than <see cref="Seconds"/>.
/// The head's measures have closed forms and count as free.
/// </summary>
public sealed record MeasureCost(IReadOnlyList<PairCost> Pairs, double SecondsPerProduct)
{
    public long Products => Pairs.Sum(p => p.Products);

    /// <summary>At most about this many seconds.</summary>
    public double Seconds => Products * SecondsPerProduct;

    /// <summary>
    /// The bound for <paramref name="measures"/> of <paramref name="targets"/> under <paramref name="spec"/>; the timing
    /// (one product on the whole network, over all of <paramref name="data"/>) only when some pair costs products.
    /// </summary>
    internal static MeasureCost Estimate(Classifier model, LabeledDataset data, MeasureSpec spec, IReadOnlyList<string> targets,
        IReadOnlyList<string> measures, CancellationToken cancellationToken)
    {
        var pairs = new List<PairCost>();
        foreach (var target in targets)
            foreach (var measure in measures)
                if (target != MeasureJob.AllParameters || !GeometryMeasures.LayerOnly(measure))
                    pairs.Add(new PairCost(target, measure, PairProducts(model, spec, target, measure)));
        double perProduct = pairs.Any(p => p.Products > 0) ? TimeOneProduct(model, data, spec.ChunkSize, cancellationToken) : 0;
        return new MeasureCost(pairs, perProduct);
    }

    /// <summary>The most products <paramref name="measure"/> of <paramref name="target"/> can take (0: closed form).</summary>
    static long PairProducts(Classifier model, MeasureSpec spec, string target, string measure)
    {
        bool head = target == model.HeadName;
        long n = target == MeasureJob.AllParameters ? ParameterSet.All(model).Count : FlatLayer.Resolve(model, target).Weight.numel();
        long lanczos = spec.MaxLanczosSteps;
        // Feature robustness: one forward pass per random matrix and δ, about a third of a Hessian-vector product each.
        if (measure == GeometryMeasures.FeatureRobustness) return (spec.RobustnessSamples * (long)spec.Deltas.Count + 2) / 3;
        if (measure == GeometryMeasures.HessianTrace)
            return head && !spec.Hutchinson ? 0 : !spec.Hutchinson && n <= spec.MaxProbes ? n
                : spec.MaxProbes + Math.Min(spec.TraceSketch, n);   // the sketch's Lanczos steps come before the probes
        if (head) return 0;   // the head's operator is its closed form on features computed once
        switch (measure)
        {
            case GeometryMeasures.RelativeFlatness:
                var flat = FlatLayer.Resolve(model, target);
                return (spec.Variant ?? RelativeFlatness.DefaultVariant(model, target)) switch
                {
                    FlatnessVariant.Block => n,
                    FlatnessVariant.NeuronWiseMaxEigenvalue => flat.Rows * lanczos,
                    FlatnessVariant.LayerWiseMaxEigenvalue => lanczos,
                    _ => spec.MaxProbes,   // the estimator and the layer-wise trace: Monte Carlo up to the probe limit
                };
            case GeometryMeasures.TopEigen:
            case GeometryMeasures.GaussNewtonTop:
                return lanczos;
            case GeometryMeasures.Outliers:
                return Math.Max(lanczos, 3 * Math.Min(n, Math.Max(spec.Top, 3 * model.ClassCount)));
            case GeometryMeasures.Density:
                return (long)spec.DensityRuns * spec.DensitySteps;
            default:
                return 0;
        }
    }

    /// <summary>Seconds of one Hessian-vector product by every parameter over all of <paramref name="data"/>.</summary>
    static double TimeOneProduct(Classifier model, LabeledDataset data, int chunkSize, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = torch.NewDisposeScope();
        using var op = new HessianVectorProduct(model, data, ParameterSet.All(model), new CurvatureOptions { ChunkSize = chunkSize });
        using var generator = new torch.Generator(0);
        var v = ParamVectors.Rademacher(op.Shapes, model.Head.weight!.dtype, generator);
        var clock = Stopwatch.StartNew();
        op.Apply(v);
        return clock.Elapsed.TotalSeconds;
    }
}
