using System.Text.Json;
using Basin.IO;
using Basin.Experiments;

namespace Basin.Training.Catalog;

/// <summary>
/// One setting of a training method: its key in run configs and sweep files (camelCase, e.g. famLambda), help, its one
/// default (a constant, or derived from the run and described in <see cref="DefaultText"/>) and its check.
/// </summary>
public abstract record MethodSetting(string Key, string Help)
{
    /// <summary>The CLI's flag: the key in kebab case (famLambda → --fam-lambda).</summary>
    public string Flag => "--" + JsonNamingPolicy.KebabCaseLower.ConvertName(Key);

    /// <summary>The value's type (double, int, long, bool or string).</summary>
    public abstract Type ValueType { get; }

    /// <summary>The default as help prints it ("0.05", "⌊0.3·epochs⌋", "the head").</summary>
    public abstract string DefaultText { get; }

    /// <summary>Accepted values of a text setting (null: any).</summary>
    public IReadOnlyList<string>? Choices { get; init; }

    /// <summary>The value a run uses: the stored one if present and not null, else the default; checked either way.</summary>
    public abstract object? Resolve(IReadOnlyDictionary<string, JsonElement> values, MethodContext context);
}

/// <summary>A setting with values of type <typeparamref name="T"/>.</summary>
public sealed record Setting<T>(string Key, string Help, Func<MethodContext, T> Default, string DefaultDescription,
    Func<T, string, T> Checked)
    : MethodSetting(Key, Help)
{
    public override Type ValueType => Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);

    public override string DefaultText => DefaultDescription;

    public override object? Resolve(IReadOnlyDictionary<string, JsonElement> values, MethodContext context) => Value(values, context);

    /// <summary>The typed value a run uses (see <see cref="Resolve"/>).</summary>
    public T Value(IReadOnlyDictionary<string, JsonElement> values, MethodContext context)
    {
        if (!values.TryGetValue(Key, out var stored) || stored.ValueKind == JsonValueKind.Null)
            return Checked(Default(context), Key);
        T value;
        try { value = stored.Deserialize<T>(Json.Options)!; }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new OptionException(Key, $"{Key} must be {Describe(ValueType)}, got {stored.GetRawText()}");
        }
        if (Choices is { } choices && value is string text) value = (T)(object)Check.OneOf(text, choices, Key);
        return Checked(value, Key);
    }

    static string Describe(Type t) =>
        t == typeof(double) ? "a number" : t == typeof(int) || t == typeof(long) ? "an integer"
            : t == typeof(bool) ? "true or false" : "a string";
}

/// <summary>Factories for settings with a constant default and the usual checks.</summary>
public static class Setting
{
    static string Text(object? v) => v switch
    {
        null => "none",
        double d => d.ToString(System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "on" : "off",
        _ => v.ToString()!,
    };

    public static Setting<T> Of<T>(string key, string help, T value, Func<T, string, T>? check = null) =>
        new(key, help, _ => value, Text(value), check ?? ((x, _) => x));

    public static Setting<T> Derived<T>(string key, string help, Func<MethodContext, T> value, string description,
        Func<T, string, T>? check = null) =>
        new(key, help, value, description, check ?? ((x, _) => x));
}
