using System.Text.Json;
using Basin.Training.Methods;
using Basin.Training.PerExample;

namespace Basin.Training.Catalog;

/// <summary>
/// Every training method Basin knows, one entry each (docs/methods.md). `--method a+b`, the CLI's options and help,
/// run records and sweep files all derive from it. A new method is one file: its pieces and its entry (a subclass of
/// <see cref="MethodEntry"/> with a parameterless constructor), which the catalog finds in this assembly.
/// </summary>
public static class MethodCatalog
{
    public static IReadOnlyList<MethodEntry> Entries { get; } = typeof(MethodEntry).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(MethodEntry)) && !t.IsAbstract)
        .Select(t => (MethodEntry)Activator.CreateInstance(t, nonPublic: true)!)
        .OrderBy(e => e.Order).ThenBy(e => e.Name, StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>Every setting key once, with the entries that declare it (a key shared by methods has one type and help).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<(MethodEntry Entry, MethodSetting Setting)>> Settings { get; } = Group();

    /// <summary>The CLI flag of a setting key, or null when the key is not a method setting.</summary>
    public static string? Flag(string key) => Settings.TryGetValue(key, out var s) ? s[0].Setting.Flag : null;

    /// <summary>The entries a method string names ("sam+fam"): known names, each once, at most one gradient procedure.</summary>
    public static IReadOnlyList<MethodEntry> Parse(string method)
    {
        var names = method.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries);
        var entries = names.Select(n => Entries.FirstOrDefault(e => e.Name == n)
            ?? throw new OptionException("method", $"unknown method '{n}' (use {string.Join(", ", Names)}, or several joined " +
                "by '+', e.g. sam+fam)")).ToList();
        if (names.Distinct().Count() != names.Length) throw new OptionException("method", $"method '{method}' names a method twice");
        var procedures = entries.Where(e => e.Stage == MethodStage.GradientProcedure).Select(e => e.Name).ToArray();
        if (procedures.Length > 1)
            throw new OptionException("method", $"methods {string.Join(" and ", procedures)} both decide how the gradient is " +
                "computed; choose one");
        var rules = entries.Where(e => e.Stage == MethodStage.UpdateRule).Select(e => e.Name).ToArray();
        if (rules.Length > 1)
            throw new OptionException("method", $"methods {string.Join(" and ", rules)} both decide how a step is taken; choose one");
        return entries;
    }

    /// <summary>Adds each named method's piece to <paramref name="recipe"/>; unknown setting keys are refused.</summary>
    public static Recipe Apply(Recipe recipe, string method, IReadOnlyDictionary<string, JsonElement> values, MethodContext context)
    {
        var entries = Parse(method);
        foreach (var key in values.Keys)
            if (!Settings.ContainsKey(key))
                throw new OptionException(key, $"unknown method setting '{key}' (known: {string.Join(", ", Settings.Keys.Order())})");
        foreach (var entry in entries) recipe = entry.Apply(recipe, values, context);
        return recipe;
    }

    /// <summary>The settings of the named methods with the values a run uses (defaults made explicit), for its record.</summary>
    public static Dictionary<string, JsonElement> Resolve(string method, IReadOnlyDictionary<string, JsonElement> values,
        MethodContext context)
    {
        var resolved = new Dictionary<string, JsonElement>();
        foreach (var entry in Parse(method))
            foreach (var setting in entry.Settings)
                resolved[setting.Key] = JsonSerializer.SerializeToElement(setting.Resolve(values, context), Basin.IO.Json.Options);
        return resolved;
    }

    static Dictionary<string, IReadOnlyList<(MethodEntry, MethodSetting)>> Group()
    {
        var all = Entries.SelectMany(e => e.Settings.Select(s => (Entry: e, Setting: s))).GroupBy(x => x.Setting.Key);
        var result = new Dictionary<string, IReadOnlyList<(MethodEntry, MethodSetting)>>();
        foreach (var g in all)
        {
            var list = g.ToList();
            if (list.Select(x => x.Setting.ValueType).Distinct().Count() > 1)
                throw new InvalidOperationException($"method setting '{g.Key}' has two types in the catalog");
            result[g.Key] = list.Select(x => (x.Entry, x.Setting)).ToList();
        }
        return result;
    }

    /// <summary>Plain training: the recipe's own objective, backpropagation and update rule.</summary>
    sealed class SgdEntry : MethodEntry
    {
        public override int Order => 0;
        public override string Name => "sgd";
        public override MethodStage Stage => MethodStage.Plain;
        public override string Summary => "plain training with the chosen optimizer";
        public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) => recipe;
    }
}
