using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Text.Json.Nodes;
using Basin.Measures;

namespace Basin.Experiments.Sweeps;

/// <summary>One hyper-parameter axis: a training-spec setting (camelCase, as in TrainJobSpec's JSON) and its values.</summary>
public sealed record SweepAxis(string Name, IReadOnlyList<JsonNode> Values);

/// <summary>How each trained model is reparametrized for the "after reparametrization" scores.</summary>
public sealed record ReparametrizationSettings
{
    /// <summary>One random factor per unit (true) or per layer pair (false).</summary>
    public bool NeuronWise { get; init; } = true;
    /// <summary>Factors are log-uniform in [1/MaxFactor, MaxFactor].</summary>
    public double MaxFactor { get; init; } = 4;
    public long Seed { get; init; } = 1;
}

/// <summary>
/// A parsed, validated sweep: a name, the base training spec (a JSON object of TrainJobSpec settings), the axes
/// whose Cartesian product gives the points, the measures to compute on every trained model, their options, the
/// gap to score against ("accuracy": train − test accuracy, or "loss": test − train loss), and the reparametrization.
/// </summary>
public sealed record SweepDefinition(
    string Name,
    JsonObject Base,
    IReadOnlyList<SweepAxis> Axes,
    IReadOnlyList<string> Measures,
    MeasureOptions MeasureOptions,
    string Gap,
    ReparametrizationSettings Reparametrization)
{
    /// <summary>The number of points (the product of the axes' lengths), counted without expanding them.</summary>
    public long PointCount => Axes.Aggregate(1L, (n, a) => n > int.MaxValue ? n : n * a.Values.Count);

    /// <summary>The most points a sweep may have (the file's "maxPoints" raises it).</summary>
    public long MaxPoints { get; init; } = DefaultMaxPoints;

    public const long DefaultMaxPoints = 10_000;
}
