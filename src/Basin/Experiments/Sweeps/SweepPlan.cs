using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Text.Json;
using System.Text.Json.Nodes;
using Basin.Models;
using Basin.Experiments.Gan;
using Basin.Training;

namespace Basin.Experiments.Sweeps;

/// <summary>The points of a sweep: the Cartesian product of its axes (the first axis varies slowest), each a full training spec.</summary>
public static class SweepPlan
{
    public static IReadOnlyList<SweepPoint> Expand(SweepDefinition sweep, string? source = null)
    {
        source ??= sweep.Name;
        var points = new List<SweepPoint>();
        var keys = new HashSet<string>();
        var specs = new Dictionary<string, string>();
        var checkedModels = new HashSet<string>();
        int ordinal = 0;
        foreach (var combination in Product(sweep.Axes, 0))
        {
            var spec = (JsonObject)sweep.Base.DeepClone();
            var settings = new Dictionary<string, string>();
            foreach (var (axis, value) in combination)
            {
                spec[axis.Name] = value.DeepClone();
                settings[axis.Name] = SweepFile.Canonical(axis.Name, value, source, $"axis '{axis.Name}'");
            }
            TrainJobSpec parsed;
            try { parsed = spec.Deserialize<TrainJobSpec>(Json.Options) ?? throw new BasinException($"{source}: empty training spec"); }
            catch (JsonException e) { throw new BasinException($"{source}: point {Key(settings)}: {SweepFile.OneLine(e.Message)}"); }
            var key = Key(settings);
            try { Check(parsed, checkedModels); }
            catch (BasinException e) { throw new BasinException($"{source}: point {key}: {e.Message}"); }
            var specJson = JsonSerializer.Serialize(parsed, Json.Options);
            if (!keys.Add(key) || specs.TryGetValue(specJson, out var other))
                throw new BasinException($"{source}: duplicate point: {key} trains the same model as " +
                    $"{specs.GetValueOrDefault(specJson) ?? key}");
            specs[specJson] = key;
            points.Add(new SweepPoint(ordinal++, key, settings, parsed, specJson));
        }
        return points;
    }

    /// <summary>"axis=value,axis=value" in axis order, values as canonical JSON.</summary>
    public static string Key(IReadOnlyDictionary<string, string> settings) => string.Join(",",
        settings.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>What can be checked without data: recipe, loop settings, and that the model spec parses.</summary>
    static void Check(TrainJobSpec spec, HashSet<string> checkedModels)
    {
        TrainingJob.RecipeFor(spec);
        TrainingJob.LoopFor(spec);
        if (spec.Samples is < 1) throw new BasinException($"samples must be at least 1, got {spec.Samples}");
        if (!(spec.LabelNoise >= 0 && spec.LabelNoise <= 1)) throw new BasinException("label noise must be a fraction in [0, 1], " +
            $"got {spec.LabelNoise}");
        bool image = Basin.Data.ImageDatasets.Names.Contains(spec.Dataset.ToLowerInvariant());
        if (!image && !Basin.Data.ToyDatasets.Names.Contains(spec.Dataset.ToLowerInvariant())
            && !Basin.Data.DataSource.IsUserData(spec.Dataset))
            throw new BasinException($"unknown dataset '{spec.Dataset}' (known: {TrainingJob.KnownDatasets})");
        if (!Basin.Data.DataSource.IsUserData(spec.Dataset) && checkedModels.Add(spec.Model + "|" + spec.Dataset))
        {
            using var model = ModelSpec.Create(spec.Model, image ? [1, 28, 28] : [2], 10, 0);
        }
    }

    static IEnumerable<List<(SweepAxis Axis, JsonNode Value)>> Product(IReadOnlyList<SweepAxis> axes, int i)
    {
        if (i == axes.Count) { yield return []; yield break; }
        foreach (var v in axes[i].Values)
            foreach (var rest in Product(axes, i + 1))
            {
                rest.Insert(0, (axes[i], v!));
                yield return rest;
            }
    }
}
