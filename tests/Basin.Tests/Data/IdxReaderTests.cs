using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(false, "images.idx")]
    [InlineData(true, "images.idx")] // gzip recognised by its magic, not the name
    [InlineData(false, "images.gz")] // and a raw file named .gz is read as raw
    [InlineData(true, "images.gz")]
    public void RoundTripGivesExactPixelsScaledByOneOver255(bool gzip, string fileName)
    {
        using var dir = new TempFolder();
        // 3 images of 2x3 with 0, 255 and values in between
        byte[] pixels = [0, 1, 2, 127, 128, 255, 10, 20, 30, 40, 50, 60, 255, 254, 0, 3, 200, 99];
        byte[] labels = [9, 0, 4];
        var images = IdxFiles.Idx([3, 2, 3], pixels);
        var labelFile = IdxFiles.Idx([3], labels);
        File.WriteAllBytes(dir.File(fileName), gzip ? IdxFiles.Gzip(images) : images);
        File.WriteAllBytes(dir.File("labels"), gzip ? IdxFiles.Gzip(labelFile) : labelFile);

        using var data = IdxReader.ReadLabeled(dir.File(fileName), dir.File("labels"), "tiny", 10);

        Assert.Equal(new long[] { 3, 1, 2, 3 }, data.Inputs.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, data.Inputs.dtype);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, data.Labels.dtype);
        Assert.Equal(pixels.Select(p => p / 255f).ToArray(), data.Inputs.data<float>().ToArray());
        Assert.Equal(0f, data.Inputs.min().item<float>());
        Assert.Equal(1f, data.Inputs.max().item<float>());
        Assert.Equal(new long[] { 9, 0, 4 }, data.Labels.data<long>().ToArray());
        Assert.Equal(10, data.ClassCount);
        Assert.Equal("tiny", data.Name);
    }

    [Fact]
    public void ReadGivesShapeAndValues()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a"), IdxFiles.Gzip(IdxFiles.Idx([2, 1, 2], [5, 6, 7, 8])));
        var idx = IdxReader.Read(dir.File("a"));
        Assert.Equal(new long[] { 2, 1, 2 }, idx.Shape);
        Assert.Equal(new byte[] { 5, 6, 7, 8 }, idx.Values);
        Assert.Equal(2, idx.Count);
    }

    [Fact]
    public void SamplesTakesTheFirstExamplesInFileOrder()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("i"), IdxFiles.Images(5));
        File.WriteAllBytes(dir.File("l"), IdxFiles.Labels(5));
        using var all = IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10);
        using var first = IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10, samples: 2);

        Assert.Equal(new long[] { 2, 1, 28, 28 }, first.Inputs.shape);
        Assert.Equal(new long[] { IdxFiles.Label(0, 0), IdxFiles.Label(1, 0) }, first.Labels.data<long>().ToArray());
        Assert.Equal(Enumerable.Range(0, 784).Select(j => IdxFiles.Pixel(1, j) / 255f).ToArray(), first.Inputs[1].data<float>().ToArray());
        Assert.Equal(all.Inputs.narrow(0, 0, 2).data<float>().ToArray(), first.Inputs.data<float>().ToArray());

        Assert.Contains("asked for 6 examples", Assert.Throws<BasinException>(() => IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10, samples: 6)).Message);
        Assert.Contains("at least 1", Assert.Throws<BasinException>(() => IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10, samples: 0)).Message);
    }

    public static TheoryData<string, byte[], string> BadFiles()
    {
        var good = IdxFiles.Idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
        var gz = IdxFiles.Gzip(good);
        var corrupt = (byte[])gz.Clone();
        for (var i = 10; i < corrupt.Length - 8; i++) corrupt[i] ^= 0x5A;
        var badCrc = (byte[])gz.Clone();
        badCrc[^8] ^= 0x01;
        return new TheoryData<string, byte[], string>
        {
            { "wrong magic", [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7], "wrong magic: the first two bytes are 0x12 0x34" },
            { "unknown type code", [0, 0, 0x07, 0x01, 0, 0, 0, 1, 7], "wrong magic: the third byte 0x07" },
            { "float type", IdxFiles.Idx([1], [0, 0, 0, 0], type: 0x0D), "unsupported IDX data type 0x0D (float32)" },
            { "zero dimensions", [0, 0, 0x08, 0], "dimension count 0" },
            { "too many dimensions", [0, 0, 0x08, 9], "dimension count 9" },
            { "short header", [0, 0, 0x08], "truncated header" },
            { "cut header", good[..10], "truncated header: 3 dimensions need 16 header bytes but the file has 10" },
            { "zero size", IdxFiles.Idx([0], []), "dimension 0 has size 0" },
            { "truncated raw", good[..^1], "truncated data: the header promises 8 bytes for shape [2,2,2] but only 7 follow" },
            { "trailing bytes", [.. good, 1, 2, 3], "trailing garbage: 3 bytes follow the 8 data bytes" },
            { "gzip cut in trailer", gz[..^3], "corrupt or truncated gzip" },
            { "gzip cut before trailer", gz[..^9], "corrupt or truncated gzip" },
            { "gzip cut in half", gz[..(gz.Length / 2)], "corrupt or truncated gzip" },
            { "gzip header only", gz[..12], "corrupt or truncated gzip" },
            { "gzip corrupt bytes", corrupt, "corrupt or truncated gzip" },
            { "gzip wrong crc", badCrc, "corrupt or truncated gzip" },
            { "gzip of trailing garbage", IdxFiles.Gzip([.. good, 9]), "trailing garbage: 1 bytes" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFileGivesDataFormatExceptionNamingFileAndCause(string caseName, byte[] content, string cause)
    {
        using var dir = new TempFolder();
        var path = dir.File(caseName.Replace(' ', '-'));
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(cause, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ImageAndLabelCountMismatchNamesBothCounts()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("i"), IdxFiles.Images(3));
        File.WriteAllBytes(dir.File("l"), IdxFiles.Labels(2));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10));
        Assert.Equal($"{dir.File("i")} holds 3 images but {dir.File("l")} holds 2 labels", e.Message);
    }

    [Fact]
    public void LabelOutsideTheClassesIsRejected()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("i"), IdxFiles.Images(3));
        File.WriteAllBytes(dir.File("l"), IdxFiles.Idx([3], [1, 10, 2]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10));
        Assert.Contains("label 10 at index 1 is outside 0..9", e.Message);
    }

    [Fact]
    public void ImagesWithWrongDimensionCountAreRejected()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("i"), IdxFiles.Idx([3, 4], new byte[12]));
        File.WriteAllBytes(dir.File("l"), IdxFiles.Labels(3));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabeled(dir.File("i"), dir.File("l"), "t", 10));
        Assert.Contains("images need 3 dimensions (count, rows, columns) but the header gives 2", e.Message);
    }

    [Fact]
    public void MissingFileIsABasinException()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<BasinException>(() => IdxReader.Read(dir.File("nope")));
        Assert.Contains("nope: cannot read", e.Message);
    }
}

/// <summary>Bounded reads (issue 20): inflation stops at the size the IDX header promises.</summary>
public class IdxBoundedReadTests
{
    [Fact]
    public void AGzipBombIsStoppedAtTheSizeItsHeaderPromises()
    {
        using var dir = new TempFolder();
        // A header promising 8 data bytes, then 32 MB of zeros: 32 KB on disk.
        var raw = new byte[4 + 12 + (32 << 20)];
        IdxFiles.Idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]).CopyTo(raw, 0);
        File.WriteAllBytes(dir.File("bomb.gz"), IdxFiles.Gzip(raw));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(dir.File("bomb.gz")));
        Assert.Contains("decompresses to more than the 24 bytes its IDX header promises", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "the bomb was inflated");
    }

    [Fact]
    public void AnEmptyFileOrAPipeIsRefusedBeforeItIsOpened()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("empty"), []);
        Assert.Contains("not a regular file", Assert.Throws<DataFormatException>(() => IdxReader.Read(dir.File("empty"))).Message);
        Assert.Contains("not a regular file", Assert.Throws<DataFormatException>(() => IdxReader.Read("/dev/zero")).Message);
    }
}
