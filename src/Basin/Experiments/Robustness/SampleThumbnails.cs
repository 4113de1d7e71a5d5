using Basin.Data;
using Basin.Data.Corruptions;
using static TorchSharp.torch;

namespace Basin.Experiments.Robustness;

/// <summary>A row of the sample-thumbnail grid: a test sample of the most fragile or the most robust list.</summary>
public sealed record ThumbnailRow(string Group, int Sample, int Label, double CorrectFraction);

/// <summary>A column of the grid: the clean set (severity 0) or a corruption at its middle severity.</summary>
public sealed record ThumbnailColumn(string Corruption, int Severity);

/// <summary>
/// The layout of samples.png: the most fragile samples, then the most robust, each list in its order in result.json
/// (rows), shown clean and under each corruption at the middle of the severities it was evaluated at (columns).
/// </summary>
public sealed record ThumbnailGrid(IReadOnlyList<ThumbnailRow> Rows, IReadOnlyList<ThumbnailColumn> Columns)
{
    public const string Fragile = "fragile", Robust = "robust";

    /// <summary>The grid of <paramref name="fragile"/> and <paramref name="robust"/> over the clean set and each corruption,
    /// given with the severities it was evaluated at.</summary>
    public static ThumbnailGrid Of(IReadOnlyList<SampleRank> fragile, IReadOnlyList<SampleRank> robust,
        IReadOnlyList<(string Corruption, IReadOnlyList<int> Severities)> corruptions)
    {
        static IEnumerable<ThumbnailRow> Rows(IEnumerable<SampleRank> ranks, string group) =>
            ranks.Select(s => new ThumbnailRow(group, s.Sample, s.Label, s.CorrectFraction));
        var rows = Rows(fragile, Fragile).Concat(Rows(robust, Robust)).ToArray();
        var columns = corruptions.Select(c => new ThumbnailColumn(c.Corruption, Middle(c.Severities)))
            .Prepend(new ThumbnailColumn("clean", 0)).ToArray();
        return new ThumbnailGrid(rows, columns);
    }

    /// <summary>The middle severity, the lower of two middles: 3 of 1–5, 1 of 1–2, 3 of (1, 3, 5).</summary>
    public static int Middle(IReadOnlyList<int> severities) => severities.Count > 0 ? severities[(severities.Count - 1) / 2]
        : throw new ArgumentException("no severities", nameof(severities));

    /// <summary>
    /// The images of the grid, [row, column] → pixels [H, W] (the mean over channels, in [0, 1]): each sample of
    /// <paramref name="test"/> corrupted exactly as the job corrupts it (seeded by <paramref name="seed"/>, the corruption,
    /// the severity and the sample's index).
    /// </summary>
    public double[,][,] Images(LabeledDataset test, long seed)
    {
        var images = new double[Rows.Count, Columns.Count][,];
        for (int r = 0; r < Rows.Count; r++)
        {
            using var scope = NewDisposeScope();
            int i = Rows[r].Sample;
            using var one = new LabeledDataset(test.Name, test.Inputs.narrow(0, i, 1), test.Labels.narrow(0, i, 1), test.ClassCount);
            for (int c = 0; c < Columns.Count; c++)
            {
                var column = Columns[c];
                using var set = column.Severity == 0 ? null
                    : ImageCorruptions.Apply(one, ImageCorruptions.Get(column.Corruption), column.Severity, seed, firstIndex: i);
                images[r, c] = Pixels((set ?? one).Inputs);
            }
        }
        return images;
    }

    static double[,] Pixels(Tensor image)
    {
        using var cpu = image.detach().to(CPU).contiguous();
        int channels = (int)cpu.shape[1], h = (int)cpu.shape[2], w = (int)cpu.shape[3];
        var values = cpu.data<float>().ToArray();
        var pixels = new double[h, w];
        for (int ch = 0; ch < channels; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) pixels[y, x] += values[(ch * h + y) * w + x] / channels;
        return pixels;
    }
}
