using Basin.Data;
using Basin.Data.Corruptions;
using Basin.Experiments.Robustness;
using Basin.Tests.Cli;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Robustness;

/// <summary>The sample thumbnails: which samples and sets, in which order; their images; the PNG.</summary>
public class ThumbnailGridTests
{
    static SampleRank Rank(int sample, int label, double fraction) => new(sample, label, fraction, 0);

    [Fact]
    public void RowsAreTheFragileThenTheRobustSamplesInOrderAndColumnsTheMiddleSeverities()
    {
        var fragile = new[] { Rank(7, 2, 0.0), Rank(3, 1, 0.125), Rank(9, 0, 0.25) };
        var robust = new[] { Rank(4, 5, 1.0), Rank(7, 2, 0.875) };   // a sample may be in both lists on a small set
        var grid = ThumbnailGrid.Of(fragile, robust,
            [("rotate", [1, 2, 3, 4, 5]), ("inverse", [1]), ("contrast", [1, 2]), ("shear", [1, 3, 5]), ("scale", [2, 4, 5, 1])]);
        Assert.Equal([new ThumbnailRow("fragile", 7, 2, 0.0), new ThumbnailRow("fragile", 3, 1, 0.125),
            new ThumbnailRow("fragile", 9, 0, 0.25), new ThumbnailRow("robust", 4, 5, 1.0), new ThumbnailRow("robust", 7, 2, 0.875)],
            grid.Rows);
        Assert.Equal([new ThumbnailColumn("clean", 0), new ThumbnailColumn("rotate", 3), new ThumbnailColumn("inverse", 1),
            new ThumbnailColumn("contrast", 1), new ThumbnailColumn("shear", 3), new ThumbnailColumn("scale", 4)], grid.Columns);
        var empty = ThumbnailGrid.Of([], [], []);
        Assert.Empty(empty.Rows);
        Assert.Equal([new ThumbnailColumn("clean", 0)], empty.Columns);
        Assert.Throws<ArgumentException>(() => ThumbnailGrid.Middle([]));
    }

    [Fact]
    public void EachImageIsTheSampleAsTheJobCorruptsItAveragedOverChannels()
    {
        torch.manual_seed(11);
        using var test = new LabeledDataset("tiny", torch.rand(6, 2, 5, 4), torch.tensor(new long[] { 0, 1, 2, 0, 1, 2 }), 3);
        var grid = ThumbnailGrid.Of([Rank(4, 1, 0.5)], [Rank(1, 1, 1.0)], [("gaussian_noise", [1, 2, 3]), ("rotate", [5])]);
        var images = grid.Images(test, seed: 17);
        Assert.Equal((2, 3), (images.GetLength(0), images.GetLength(1)));
        for (int c = 0; c < 3; c++)
        {
            var column = grid.Columns[c];
            using var whole = c == 0 ? null : ImageCorruptions.Apply(test, ImageCorruptions.Get(column.Corruption), column.Severity, 17);
            var pixels = (whole ?? test).Inputs.data<float>().ToArray();
            for (int r = 0; r < 2; r++)
            {
                int i = grid.Rows[r].Sample;
                Assert.Equal((5, 4), (images[r, c].GetLength(0), images[r, c].GetLength(1)));
                for (int y = 0; y < 5; y++)
                    for (int x = 0; x < 4; x++)
                    {
                        double expected = pixels[((i * 2 + 0) * 5 + y) * 4 + x] / 2.0 + pixels[((i * 2 + 1) * 5 + y) * 4 + x] / 2.0;
                        Assert.Equal(expected, images[r, c][y, x], 12);
                    }
            }
        }
        // The corrupted images differ from the clean ones (the check above is not comparing a set with itself).
        Assert.NotEqual(images[0, 0][2, 2], images[0, 1][2, 2]);

        var path = Path.Combine(CliRunner.TempDir(), "samples.png");
        Assert.Equal(path, RobustnessPlot.SaveThumbnails(grid, images, path));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(path)[..4]);
        Assert.Throws<ArgumentException>(() => RobustnessPlot.SaveThumbnails(grid, new double[1, 3][,], path));
    }
}
