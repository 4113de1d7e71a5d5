using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Basin.Measures;
using Basin.Models;
using Basin.Experiments.Gan;
using Basin.Training.Catalog;
using Basin.Training;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// Reads and checks a sweep file (JSON; comments and trailing commas allowed):
/// <code>
/// { "name": "fmnist-lenet",
///   "base": { "dataset": "fashion-mnist", "model": "lenet5", "samples": 3000, "epochs": 10, "stopAtTrainLoss": 0.1 },
///   "axes": { "learningRate": [0.01, 0.05], "batchSize": [32, 128], "seed": [1, 2] },
///   "measures": ["all"],
///   "measureOptions": { "samples": 1000 },
///   "gap": "accuracy",
///   "reparametrization": { "neuronWise": true, "maxFactor": 4, "seed": 1 } }
/// </code>
/// Base settings and axes are TrainJobSpec settings by their JSON names ("lr" is accepted for learningRate);
/// "method" passes through to the spec once it has one. Every problem is a one-line <see cref="BasinException"/>
/// naming the file and the cause: unknown key or axis, empty axis, duplicate point, malformed value.
/// </summary>
public static class SweepFile
{
    static readonly string[] TopLevel = ["name", "base", "axes", "measures", "measureOptions", "gap", "reparametrization", "maxPoints"];

    /// <summary>A sweep file larger than this is refused before it is read (a sweep file is a few kilobytes).</summary>
    public const long MaxFileBytes = 16 << 20;
    static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase) { ["lr"] = "learningRate" };

    /// <summary>TrainJobSpec's settings by JSON name, with their types: its own properties, then the method catalog's settings.</summary>
    public static IReadOnlyDictionary<string, Type> Settings { get; } =
        typeof(TrainJobSpec).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.Name != nameof(TrainJobSpec.MethodSettings))
            .Select(p => (Name: JsonNamingPolicy.CamelCase.ConvertName(p.Name), Type: p.PropertyType))
            // A method setting may be null in a sweep file: null means the catalog's default.
            .Concat(MethodCatalog.Settings.Select(kv => (Name: kv.Key, Type: AllowingNull(kv.Value[0].Setting.ValueType))))
            .ToDictionary(x => x.Name, x => x.Type, StringComparer.OrdinalIgnoreCase);

    static Type AllowingNull(Type t) => t.IsValueType ? typeof(Nullable<>).MakeGenericType(t) : t;

    public static SweepDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new BasinException($"sweep file not found: {path}");
        var name = Path.GetFileNameWithoutExtension(path);
        return Parse(System.Text.Encoding.UTF8.GetString(Basin.IO.BoundedFile.ReadAllBytes(path, MaxFileBytes, "sweep file")), path, name);
    }

    public static SweepDefinition Parse(string text, string source, string defaultName = "sweep")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new BasinException($"{source}: not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new BasinException($"{source}: a sweep file is a JSON object with 'base' and 'axes'");
        string Fail(string message) => throw new BasinException($"{source}: {message}");
        if (RepeatedKey(text) is { } repeated) Fail($"key {repeated} appears twice in one object; give each key once");
        foreach (var (key, _) in obj)
            if (!TopLevel.Contains(key)) Fail($"unknown key '{key}' (known: {string.Join(", ", TopLevel)})");

        var name = obj["name"] is JsonNode n
            ? (n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : Fail("'name' must be a string")) : defaultName;
        if (!Regex.IsMatch(name, "^[A-Za-z0-9._-]{1,80}$")) Fail($"sweep name '{name}' may use letters, digits, '.', '_' and '-' only");

        var baseSpec = obj["base"] switch
        {
            null => new JsonObject(),
            JsonObject b => (JsonObject)b.DeepClone(),
            _ => throw new BasinException($"{source}: 'base' must be an object of training settings"),
        };
        var canonicalBase = new JsonObject();
        foreach (var (key, value) in baseSpec)
        {
            if (value is null) Fail($"base setting '{key}' is null; leave it out to use the default");
            var setting = SettingName(key, source, "base setting");
            canonicalBase[setting] = value?.DeepClone();
            Canonical(setting, value, source, $"base setting '{key}'");
        }

        if (obj["axes"] is not JsonObject axesNode || axesNode.Count == 0) throw new BasinException($"{source}: 'axes' must be a " +
            "non-empty object of axis → list of values");
        var axes = new List<SweepAxis>();
        foreach (var (key, value) in axesNode)
        {
            var setting = SettingName(key, source, "axis");
            if (axes.Any(a => a.Name == setting)) Fail($"axes '{key}' and '{axes.First(a => a.Name == setting).Name}' " +
                "name the same setting");
            if (value is not JsonArray list) throw new BasinException($"{source}: axis '{key}' must be a list of values");
            if (list.Count == 0) Fail($"axis '{key}' is empty; give it at least one value");
            if (list.Any(v => v is null)) Fail($"axis '{key}' lists null; give only values (leave a setting out of the " +
                "axes to use its default)");
            var seen = new HashSet<string>();
            foreach (var v in list)
            {
                var canonical = Canonical(setting, v, source, $"axis '{key}'");
                if (!seen.Add(canonical)) Fail($"duplicate point: axis '{key}' lists {canonical} twice");
            }
            axes.Add(new SweepAxis(setting, list.Select(v => v!.DeepClone()).ToArray()));
        }

        var measures = obj["measures"] switch
        {
            null => new[] { "all" },
            JsonArray a when a.Count > 0
                && a.All(v => v?.GetValueKind() == JsonValueKind.String) => a.Select(v => v!.GetValue<string>()).ToArray(),
            _ => throw new BasinException($"{source}: 'measures' must be a non-empty list of measure names (or [\"all\"])"),
        };
        try { MeasureRegistry.Select(measures); }
        catch (BasinException e) { Fail(e.Message); }

        var options = Deserialize<MeasureOptions>(obj["measureOptions"], source, "measureOptions") ?? new MeasureOptions();
        var gap = obj["gap"]?.GetValueKind() == JsonValueKind.String ? obj["gap"]!.GetValue<string>()
            : obj["gap"] is null ? "accuracy" : Fail("'gap' must be \"accuracy\" or \"loss\"");
        if (gap is not ("accuracy" or "loss")) Fail($"unknown gap '{gap}' (use \"accuracy\": train − test accuracy, or " +
            "\"loss\": test − train loss)");
        var reparam = Deserialize<ReparametrizationSettings>(obj["reparametrization"], source, "reparametrization")
            ?? new ReparametrizationSettings();
        if (!(reparam.MaxFactor >= 1) || double.IsInfinity(reparam.MaxFactor)) Fail("reparametrization maxFactor must be a finite number " +
            $"≥ 1, got {reparam.MaxFactor}");

        long maxPoints = SweepDefinition.DefaultMaxPoints;
        if (obj["maxPoints"] is JsonNode mp)
        {
            if (mp.GetValueKind() != JsonValueKind.Number || !mp.AsValue().TryGetValue<long>(out maxPoints) || maxPoints < 1)
                Fail($"'maxPoints' must be a whole number ≥ 1, got {mp.ToJsonString()}");
        }
        var definition = new SweepDefinition(name, canonicalBase, axes, measures, options, gap, reparam) { MaxPoints = maxPoints };
        // Count before expanding: three 1,000-value axes would otherwise build 10⁹ points in memory.
        if (definition.PointCount > maxPoints)
            Fail($"the axes give {(definition.PointCount > int.MaxValue ? "more than 2,147,483,647"
                : definition.PointCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))} points, " +
                $"more than the limit of {maxPoints:N0}; shorten the axes or raise the limit with \"maxPoints\"");
        _ = SweepPlan.Expand(definition, source);   // checks every point's spec
        return definition;
    }

    /// <summary>The first key repeated within one JSON object, quoted with its path (e.g. 'axes.seed'), or null.</summary>
    internal static string? RepeatedKey(string text)
    {
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true });
        return Repeated(doc.RootElement, "");

        static string? Repeated(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in e.EnumerateObject())
                {
                    var at = path.Length == 0 ? p.Name : $"{path}.{p.Name}";
                    if (!seen.Add(p.Name)) return $"'{at}'";
                    if (Repeated(p.Value, at) is { } inner) return inner;
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (var item in e.EnumerateArray())
                    if (Repeated(item, $"{path}[{i++}]") is { } inner) return inner;
            }
            return null;
        }
    }

    static T? Deserialize<T>(JsonNode? node, string source, string what) where T : class
    {
        if (node is null) return null;
        var strict = new JsonSerializerOptions(Json.Options)
        {
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        };
        try { return node.Deserialize<T>(strict); }
        catch (JsonException e) { throw new BasinException($"{source}: '{what}' is malformed: {OneLine(e.Message)}"); }
    }

    static string SettingName(string key, string source, string what)
    {
        var name = Aliases.TryGetValue(key, out var alias) ? alias : key;
        if (Settings.ContainsKey(name)) return Settings.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        if (string.Equals(name, "method", StringComparison.OrdinalIgnoreCase))
            throw new BasinException($"{source}: {what} 'method' needs a Basin whose training spec has a method setting; this one trains " +
                "with the plain recipe only");
        throw new BasinException($"{source}: unknown {what} '{key}' (known: " +
            $"{string.Join(", ", Settings.Keys.Concat(Aliases.Keys).Order())})");
    }

    /// <summary>The value as the setting's type, written back as canonical JSON ("5e-4" and "0.0005" agree); a wrong type is an
    /// error.</summary>
    internal static string Canonical(string setting, JsonNode? value, string source, string what)
    {
        var type = Settings[setting];
        object? parsed;
        try { parsed = value is null ? null : value.Deserialize(type, Json.Options); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new BasinException($"{source}: {what}: {value?.ToJsonString() ?? "null"} is not a valid {Describe(type)}");
        }
        if (parsed is null && Nullable.GetUnderlyingType(type) is null && type.IsValueType)
            throw new BasinException($"{source}: {what}: null is not a valid {Describe(type)}");
        return JsonSerializer.Serialize(parsed, type, Json.Options);
    }

    static string Describe(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        return u == typeof(double) ? "number" : u == typeof(int) || u == typeof(long) ? "integer"
            : u == typeof(bool) ? "true/false" : u == typeof(string) ? "string" : u.Name;
    }

    internal static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
