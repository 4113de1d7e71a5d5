using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// A data set as CSV: a header row, one column named "label" (any case) holding the class, every other column a
/// number (a feature). Labels that are all whole numbers ≥ 0 are class indices; otherwise each distinct label is a
/// class, in ordinal order of the names.
/// </summary>
public static class CsvTable
{
    /// <summary>
    /// Reads the file on its own; <paramref name="classNames"/> are its classes: null when the labels are indices, else the
    /// names in ordinal order (to pass to <see cref="Load(string, IReadOnlyList{string}?, int?)"/> for a matching test file).
    /// </summary>
    public static LabeledDataset Load(string path, out IReadOnlyList<string>? classNames)
    {
        var table = Read(path);
        classNames = table.Names;
        return FromTable(table, path, null, null);
    }

    /// <summary>
    /// Reads the file. <paramref name="classNames"/> (e.g. the training file's) fixes the classes of named labels;
    /// <paramref name="classCount"/> the class count of index labels (else the largest index + 1).
    /// </summary>
    public static LabeledDataset Load(string path, IReadOnlyList<string>? classNames = null, int? classCount = null) =>
        FromTable(Read(path), path, classNames, classCount);

    static LabeledDataset FromTable(Table table, string path, IReadOnlyList<string>? classNames, int? classCount)
    {
        if (table.Names is not null && classNames is null && classCount is not null)
            throw new BasinException($"{path}: labels are names here but class indices in the training data");
        long[] labels;
        int classes;
        if (table.Names is null && classNames is null)
        {
            labels = table.Labels.Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            classes = classCount ?? checked((int)labels.Max() + 1);
            if (labels.Max() >= classes) throw new BasinException($"{path}: label {labels.Max()} is not one of {classes} classes");
        }
        else
        {
            var names = classNames ?? table.Names!;
            labels = table.Labels.Select(l => (long)IndexOf(names, l, path)).ToArray();
            classes = names.Count;
        }
        var inputs = tensor(table.Features, [labels.Length, table.FeatureCount]);
        return new LabeledDataset(Path.GetFileName(path), inputs, tensor(labels, ScalarType.Int64), classes);
    }

    static int IndexOf(IReadOnlyList<string> names, string label, string path)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == label) return i;
        throw new BasinException($"{path}: label '{label}' is not a class of the training data ({string.Join(", ", names)})");
    }

    sealed record Table(float[] Features, int FeatureCount, List<string> Labels, IReadOnlyList<string>? Names);

    static Table Read(string path)
    {
        if (!File.Exists(path)) throw new BasinException($"CSV file not found: {path}");
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim });
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
                throw new BasinException($"{path} is empty: it needs a header row naming the columns, one of them 'label'");
            int labelColumn = Array.FindIndex(header, h => h.Equals("label", StringComparison.OrdinalIgnoreCase));
            if (labelColumn < 0) throw new BasinException($"{path}: no column named 'label' in the header ({string.Join(",", header)})");
            if (header.Length < 2) throw new BasinException($"{path}: no feature columns besides 'label'");
            var features = new List<float>();
            var labels = new List<string>();
            while (csv.Read())
            {
                int row = csv.Parser.Row;
                if (csv.Parser.Count != header.Length)
                    throw new BasinException($"{path} line {row}: {csv.Parser.Count} fields, but the header has {header.Length}");
                for (int c = 0; c < header.Length; c++)
                {
                    var field = csv.GetField(c) ?? "";
                    if (c == labelColumn) { labels.Add(field); continue; }
                    if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !float.IsFinite(v))
                        throw new BasinException($"{path} line {row}, column '{header[c]}': '{field}' is not a finite number");
                    features.Add(v);
                }
            }
            if (labels.Count == 0) throw new BasinException($"{path}: no examples after the header");
            bool indices = labels.All(l => long.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _));
            var names = indices ? null : labels.Distinct().Order(StringComparer.Ordinal).ToList();
            return new Table(features.ToArray(), header.Length - 1, labels, names);
        }
        catch (CsvHelperException e)
        {
            throw new BasinException($"{path} is not a readable CSV file: {e.Message.Split('\n')[0]}");
        }
    }
}
