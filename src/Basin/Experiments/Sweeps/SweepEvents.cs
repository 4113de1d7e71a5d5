using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
namespace Basin.Experiments.Sweeps;

/// <summary>Progress of a sweep, for a caller's IProgress.</summary>
public abstract record SweepEvent;

/// <summary>The points are registered: <paramref name="Finished"/> of <paramref name="Total"/> were done before this run.</summary>
public sealed record SweepStarted(string Sweep, int Total, int Finished, int Workers, int ThreadsPerWorker) : SweepEvent;

public sealed record PointStarted(string Key, string Worker, bool Resumed) : SweepEvent;

public sealed record PointTrained(string Key, string RunId, double Seconds) : SweepEvent;

public sealed record MeasureComputed(string Key, string Measure, string Variant, double? Value, double Seconds,
    string? Message) : SweepEvent;

/// <summary>A point is finished (done or failed).</summary>
public sealed record PointFinished(string Key, string Status, double Seconds, string? Message) : SweepEvent;

/// <summary>A line a worker process wrote (coordinator side).</summary>
public sealed record WorkerOutput(int Worker, string Line) : SweepEvent;
