using System.Globalization;

namespace Basin.Experiments;

/// <summary>
/// How the run database backends store times and match id prefixes, stated once for both: times as ISO 8601 round-trip
/// text in UTC (fixed width, so text order is time order); a prefix for LIKE with its wildcards taken literally (escape '\').
/// </summary>
internal static class StoredText
{
    public static string Iso(DateTime utc) => utc.ToString("O", CultureInfo.InvariantCulture);

    public static string Now() => Iso(DateTime.UtcNow);

    public static DateTime ParseUtc(string s) => DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    /// <summary>A LIKE pattern for ids starting with <paramref name="prefix"/>, used with ESCAPE '\'.</summary>
    public static string LikePrefix(string prefix) => prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
}
