using Basin.Data;
using Basin.Minima;
using Basin.Models;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using TorchSharp;

namespace Basin.Experiments.Minima;

/// <summary>The constructed critical points that ship with Basin.</summary>
public enum MinimaCase
{
    /// <summary>The 12-point regression example: 1→1→1 sigmoid, B ≻ 0, M = 0 (minima on (0, 1), saddles outside).</summary>
    Fixture,
    /// <summary>
    /// A 2→3→2→1 sigmoid network (60 random points in [−2, 2]², θ* ~ 0.8·N(0, I), seed 1, residual 0.05·√N fed into M) split
    /// in its first (inner) layer, whose next layer has 2 units: M ≠ 0. Its small network is itself a saddle (constructed and
    /// trained deep sigmoid networks are not strict minima), so it checks the exact inertia count rather than a minimum.
    /// </summary>
    Deep,
    /// <summary>
    /// The fixture with a second output (1→1→2, v* = (1, 0.5)): the fixture's residual on output 1 plus a residual on output 2
    /// that feeds M. H_small ≻ 0 and B ≻ 0, yet M ≠ 0 makes every point of the line a saddle.
    /// </summary>
    MultiOutput,
}

/// <summary>Where the small network comes from: a constructed case, or a recorded run's MLP on its training data.</summary>
public sealed record MinimaSource
{
    public MinimaCase? Case { get; init; }
    public string? RunId { get; init; }
    /// <summary>Training examples of the run to use (default: the run's own count).</summary>
    public long? Samples { get; init; }
    /// <summary>The loss on the run's data: its cross-entropy, or the squared error against one-hot labels.</summary>
    public FitLoss Loss { get; init; } = FitLoss.CrossEntropy;
    /// <summary>Run Newton (trust region) to ‖∇L‖ ≤ 1e-10 before splitting.</summary>
    public bool Polish { get; init; }

    /// <summary>The constructed critical point of a case.</summary>
    public static CriticalPoint Build(MinimaCase c) => c switch
    {
        MinimaCase.Fixture => ConstructedExample.Create(),
        MinimaCase.Deep => ConstructedCritical.Build("deep", new ConstructionSpec
        {
            Sizes = [2, 3, 2, 1], Count = 60, Layer = 1, Unit = 1, Feed = ResidualFeed.M, ResidualScale = 0.05, Seed = 1,
        }),
        MinimaCase.MultiOutput => ConstructedCritical.Build("multi-output", new ConstructionSpec
        {
            Sizes = [1, 1, 2], Theta = [1, 0, 1, 0.5, 0, 0], Inputs = ConstructedExample.Inputs, Layer = 1, Unit = 1, Feed = ResidualFeed.M,
            BaseDirection = ConstructedExample.Direction.SelectMany(c => new[] { c, 0.0 }).ToArray(), FeedWeight = 0.3,
            ResidualScale = 1 / Math.Sqrt(ConstructedExample.Inputs.Count), Seed = 1,
        }),
        _ => throw new BasinException($"unknown case {c}"),
    };

    /// <summary>
    /// The small network and its data. A run's model must be a sigmoid or tanh MLP; with <see cref="Polish"/> Newton moves it to
    /// a critical point first (refused when it does not get there).
    /// </summary>
    public CriticalPoint Load(RunStore? store, CancellationToken ct = default)
    {
        if ((Case is null) == (RunId is null)) throw new BasinException("give either a run id or a constructed case (--case), not both");
        var point = Case is { } c ? Build(c) : LoadRun(store);
        if (!Polish) return point;
        var r = NewtonSolver.Minimize(point.Net, point.Data, new NewtonOptions(), ct);
        if (!r.Converged)
        {
            point.Dispose();
            throw new BasinException($"Newton did not reach ‖∇L‖ ≤ 1e-10 in {r.Iterations} iterations (‖∇L‖ = " +
                $"{r.GradientNorm:E3}, loss " +
                $"{r.Loss:G6}); " +
                "sigmoid networks often have their minima at infinity (largest |θ| " + $"{r.Net.Theta.Max(Math.Abs):G4})");
        }
        return point with { Net = r.Net };
    }

    CriticalPoint LoadRun(RunStore? store)
    {
        var source = ModelSource.Resolve(RunId, store, null, null, null, null);
        if (!source.Model.StartsWith("mlp", StringComparison.OrdinalIgnoreCase))
            throw new BasinException($"run {RunId} trained {source.Model}: the neuron-split construction works on MLPs (e.g. --model " +
                $"mlp:3:sigmoid)");
        using var data = source.LoadData(Split.Train, Samples ?? source.Run?.Samples);
        using var model = source.LoadModel(data);
        if (model is not Mlp mlp)
            throw new BasinException($"run {RunId} trained {model.Spec}, not a plain MLP: the construction needs one");
        var net = SmoothNet.FromMlp(mlp);
        if (net.ParameterCount() > NetLoss.MaxHessianParameters)
            throw new BasinException($"{mlp.Spec} has {net.ParameterCount()} parameters; the dense Hessian needs at most " +
                $"{NetLoss.MaxHessianParameters} (use a tiny MLP)");
        using var scope = torch.NewDisposeScope();
        var x = data.Inputs.flatten(1);
        var targets = Loss == FitLoss.CrossEntropy ? data.Labels : torch.nn.functional.one_hot(data.Labels, data.ClassCount);
        var fit = new FitData(x, targets, Loss);
        return new CriticalPoint($"run {source.Run?.Model} on {source.Dataset}", net, fit, 1, 1);
    }
}
