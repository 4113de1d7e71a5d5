using System.Text.Json;
using Basin.Landscape;

namespace Basin.Experiments.Reports;

/// <summary>A PNG image to embed in a page: its file name, the folder it came from, and its bytes.</summary>
public sealed record ReportImage(string Folder, string File, byte[] Png)
{
    /// <summary>The image as a data URI, so the page loads no file.</summary>
    public string DataUri => "data:image/png;base64," + Convert.ToBase64String(Png);
}

/// <summary>One split (train or test) of a landscape slice: loss and accuracy over the grid (1-D: one row).</summary>
public sealed record SliceSplit(string Split, long Examples, IReadOnlyList<double[]> Loss, IReadOnlyList<double[]> Accuracy);

/// <summary>
/// What `basin landscape` wrote into <see cref="Folder"/> (landscape.json): the slice around run <see cref="Run"/> along
/// <see cref="Directions"/> (towards run <see cref="To"/> for "to"), its grid and values, and the barrier along a line to
/// <see cref="To"/> when measured.
/// </summary>
public sealed record LandscapeSlice(string Folder, string Run, string? To, int Dims, string Directions, string Norm, long Seed,
    IReadOnlyList<double> Alphas, IReadOnlyList<double>? Betas, double? OwnLoss, IReadOnlyList<SliceSplit> Splits, LossBarrier? Barrier);

/// <summary>One path of a connectivity result: the straight "line" or the trained "curve", on one split.</summary>
public sealed record ConnectPath(string Path, string Split, IReadOnlyList<double> Ts, IReadOnlyList<double> Loss,
    IReadOnlyList<double> Accuracy, LossBarrier? Barrier);

/// <summary>What `basin connect` wrote into <see cref="Folder"/> (connect.json): the line and the trained curve between two runs.</summary>
public sealed record Connection(string Folder, string RunA, string RunB, string Curve, bool Aligned, long TrainExamples,
    long TestExamples, IReadOnlyList<ConnectPath> Paths);

/// <summary>A method's mean scores in a `basin gan interpolate` output.</summary>
public sealed record InterpolationMethod(string Method, int Pairs, double? MeanLength, double? MeanEnergy, double? MeanCriticMin,
    double? MeanCriticMean);

/// <summary>What `basin gan interpolate` wrote into <see cref="Folder"/> (results.json): mean scores and its plots or strips.</summary>
public sealed record InterpolationOutput(string Folder, IReadOnlyList<InterpolationMethod> Methods, IReadOnlyList<ReportImage> Images);

/// <summary>
/// The results other jobs left in a folder (a run folder, or the --out folder of one of them) and its subfolders:
/// landscapes (landscape.json), connectivity (connect.json), GAN interpolations (results.json with their PNGs) and any
/// PNG image in the folder itself.
/// </summary>
public sealed record FolderContents(IReadOnlyList<ReportImage> Images, IReadOnlyList<InterpolationOutput> Interpolations,
    IReadOnlyList<LandscapeSlice> Landscapes, IReadOnlyList<Connection> Connections)
{
    public static readonly FolderContents Empty = new([], [], [], []);

    /// <summary>The file names the jobs write their results to.</summary>
    public const string LandscapeFile = "landscape.json", ConnectFile = "connect.json", InterpolationFile = "results.json";

    /// <summary>The largest image embedded (bytes); a larger one is named in a note instead.</summary>
    public const long MaxImageBytes = 8 << 20;

    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public bool IsEmpty => Images.Count == 0 && Interpolations.Count == 0 && Landscapes.Count == 0 && Connections.Count == 0;

    /// <summary>
    /// Reads <paramref name="folder"/> and its subfolders (in name order). What cannot be read (a result file that is not
    /// valid, an image that is listed but missing, not a PNG or too large) is skipped and named in <paramref name="notes"/>
    /// with its folder.
    /// </summary>
    public static FolderContents Read(string folder, List<string> notes)
    {
        var images = new List<ReportImage>();
        var interpolations = new List<InterpolationOutput>();
        var landscapes = new List<LandscapeSlice>();
        var connections = new List<Connection>();
        if (!Directory.Exists(folder)) return Empty;
        // landscape.png and connect.png draw what the page's charts draw.
        foreach (var png in Directory.GetFiles(folder, "*.png").Where(f => Path.GetFileName(f) is not ("landscape.png" or "connect.png"))
                     .OrderBy(f => f, StringComparer.Ordinal))
            if (Image(folder, Path.GetFileName(png), notes) is { } image) images.Add(image);
        var folders = new[] { folder }.Concat(Directory.GetDirectories(folder).OrderBy(f => f, StringComparer.Ordinal));
        foreach (var f in folders)
        {
            if (Parse(f, LandscapeFile, notes) is { } l && Try(f, LandscapeFile, notes, () => ReadLandscape(f, l)) is { } slice)
                landscapes.Add(slice);
            if (Parse(f, ConnectFile, notes) is { } c && Try(f, ConnectFile, notes, () => ReadConnection(f, c)) is { } connection)
                connections.Add(connection);
            if (Parse(f, InterpolationFile, notes) is { } i && i.TryGetProperty("plots", out _)
                && Try(f, InterpolationFile, notes, () => ReadInterpolation(f, i, notes)) is { } output)
                interpolations.Add(output);
        }
        return new FolderContents(images, interpolations, landscapes, connections);
    }

    /// <summary>The image <paramref name="file"/> of <paramref name="folder"/>, or null with a note saying why not.</summary>
    public static ReportImage? Image(string folder, string file, List<string> notes)
    {
        var path = Path.Combine(folder, file);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) { notes.Add($"the image {file} is missing from {folder}"); return null; }
            if (info.Length > MaxImageBytes)
            {
                notes.Add($"the image {file} in {folder} is {info.Length:N0} bytes, too large to embed (the most is {MaxImageBytes:N0})");
                return null;
            }
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < PngSignature.Length || !bytes.AsSpan(0, PngSignature.Length).SequenceEqual(PngSignature))
            {
                notes.Add($"the image {file} in {folder} is not a PNG file");
                return null;
            }
            return new ReportImage(folder, file, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            notes.Add($"the image {file} in {folder} cannot be read: {e.Message}");
            return null;
        }
    }

    static JsonElement? Parse(string folder, string file, List<string> notes)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc.RootElement.Clone();
            notes.Add($"{file} in {folder} holds no JSON object: it is not shown");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            notes.Add($"{file} in {folder} cannot be read ({e.Message}): it is not shown");
        }
        return null;
    }

    static T? Try<T>(string folder, string file, List<string> notes, Func<T> read) where T : class
    {
        try { return read(); }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or BasinException)
        {
            notes.Add($"{file} in {folder} is not as the job writes it ({e.Message}): it is not shown");
            return null;
        }
    }

    static JsonElement Get(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v : throw new KeyNotFoundException($"no \"{name}\"");

    static JsonElement? Optional(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A stored number: NaN and the infinities are stored as strings.</summary>
    static double Number(JsonElement v) => v.ValueKind == JsonValueKind.String
        ? double.Parse(v.GetString()!, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
        : v.GetDouble();

    static double[] Numbers(JsonElement v) => v.EnumerateArray().Select(Number).ToArray();

    static string? Text(JsonElement e, string name) => Optional(e, name)?.GetString();

    static LossBarrier? Barrier(JsonElement e, string name) => Optional(e, name) is { } b
        ? new LossBarrier(Number(Get(b, "max")), Number(Get(b, "chord")), Number(Get(b, "peakT"))) : null;

    static LandscapeSlice ReadLandscape(string folder, JsonElement e)
    {
        int dims = Get(e, "dims").GetInt32();
        if (dims is not (1 or 2)) throw new FormatException($"dims is {dims}");
        var alphas = Numbers(Get(e, "alphas"));
        var betas = Optional(e, "betas") is { } b ? Numbers(b) : null;
        if (dims == 2 && betas is null) throw new KeyNotFoundException("no \"betas\" for a 2-D slice");
        int rows = dims == 1 ? 1 : alphas.Length, columns = dims == 1 ? alphas.Length : betas!.Length;
        var splits = new List<SliceSplit>();
        foreach (var name in new[] { "train", "test" })
        {
            if (Optional(e, name) is not { } s) continue;
            var loss = Get(s, "loss").EnumerateArray().Select(Numbers).ToList();
            var accuracy = Get(s, "accuracy").EnumerateArray().Select(Numbers).ToList();
            if (loss.Count != rows || accuracy.Count != rows || loss.Concat(accuracy).Any(r => r.Length != columns))
                throw new FormatException($"the {name} values do not fill the {rows}×{columns} grid");
            splits.Add(new SliceSplit(Text(s, "split") ?? name, Get(s, "examples").GetInt64(), loss, accuracy));
        }
        return new LandscapeSlice(folder, Text(e, "run") ?? "", Text(e, "to"), dims, Text(e, "directions") ?? "", Text(e, "norm") ?? "",
            Optional(e, "seed")?.GetInt64() ?? 0, alphas, betas, Optional(e, "ownLoss") is { } own ? Number(own) : null, splits,
            Barrier(e, "barrier"));
    }

    static Connection ReadConnection(string folder, JsonElement e)
    {
        var paths = new List<ConnectPath>();
        foreach (var (name, path, split) in new[] { ("line", "line", "train"), ("curve", "curve", "train"), ("lineTest", "line", "test"),
                     ("curveTest", "curve", "test") })
        {
            if (Optional(e, name) is not { } p) continue;
            var ts = Numbers(Get(p, "ts"));
            var loss = Numbers(Get(p, "loss"));
            var accuracy = Numbers(Get(p, "accuracy"));
            if (loss.Length != ts.Length || accuracy.Length != ts.Length)
                throw new FormatException($"{name} has {ts.Length} values of t but {loss.Length} losses and {accuracy.Length} accuracies");
            paths.Add(new ConnectPath(path, split, ts, loss, accuracy, Barrier(p, "barrier")));
        }
        if (paths.Count == 0) throw new KeyNotFoundException("no \"line\" nor \"curve\"");
        return new Connection(folder, Text(e, "runA") ?? "", Text(e, "runB") ?? "", Text(e, "curveKind") ?? "",
            Optional(e, "alignment") is not null, Optional(e, "trainExamples")?.GetInt64() ?? 0,
            Optional(e, "testExamples")?.GetInt64() ?? 0, paths);
    }

    static InterpolationOutput ReadInterpolation(string folder, JsonElement e, List<string> notes)
    {
        var methods = new List<InterpolationMethod>();
        if (Optional(e, "summary") is { } summary)
            foreach (var m in summary.EnumerateArray())
            {
                double? N(string name) => Optional(m, name) is { } v && Number(v) is var d && double.IsFinite(d) ? d : null;
                methods.Add(new InterpolationMethod(Text(m, "method") ?? "", Get(m, "pairs").GetInt32(), N("meanLength"), N("meanEnergy"),
                    N("meanCriticMin"), N("meanCriticMean")));
            }
        // The plots are named by the folder they were written to; the folder may have moved since, so look beside the results.
        var images = new List<ReportImage>();
        foreach (var plot in Get(e, "plots").EnumerateArray().Select(p => Path.GetFileName(p.GetString() ?? "")))
            if (plot.Length > 0 && Image(folder, plot, notes) is { } image) images.Add(image);
        return new InterpolationOutput(folder, methods, images);
    }
}
