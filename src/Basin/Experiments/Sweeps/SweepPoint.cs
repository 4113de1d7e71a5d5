using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// One point of a sweep: its position (<see cref="Ordinal"/>), its setting on each axis as canonical JSON text,
/// the key that names it in the run database ("axis=value,axis=value"), and the full training spec.
/// </summary>
public sealed record SweepPoint(int Ordinal, string Key, IReadOnlyDictionary<string, string> Settings, TrainJobSpec Spec, string SpecJson);
