using Basin.Data;
using Basin.IO;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Data;

/// <summary>The user's own data: image folders, CSV, safetensors, and the held-out test set.</summary>
public class UserDataTests
{
    /// <summary>Writes a PNG of <paramref name="w"/>×<paramref name="h"/> whose pixel (x, y) has the colour <paramref name="colour"/>(x, y).</summary>
    internal static void WritePng(string file, int w, int h, Func<int, int, SKColor> colour)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using var bitmap = new SKBitmap(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, colour(x, y));
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var stream = File.Create(file);
        png.SaveTo(stream);
    }

    static SKColor Grey(int v) => new((byte)v, (byte)v, (byte)v);

    /// <summary>A folder of 4×3 grey images: class "a" has 3, class "b" 2; image k of class c has pixel value 10·c + k + x.</summary>
    static string GreyFolder()
    {
        var dir = Directory.CreateTempSubdirectory("basin-images-").FullName;
        foreach (var (c, name, count) in new[] { (0, "a", 3), (1, "b", 2) })
            for (int k = 0; k < count; k++) WritePng(Path.Combine(dir, name, $"img{k}.png"), 4, 3, (x, _) => Grey(10 * c + k + x));
        File.WriteAllText(Path.Combine(dir, "a", "notes.txt"), "not an image");
        return dir;
    }

    [Fact]
    public void AnImageFolderReadsRoundRobinOverSortedClassesAsGreyPixelsOver255()
    {
        using var data = ImageFolder.Load(GreyFolder());
        Assert.Equal([5L, 1, 3, 4], data.Inputs.shape);
        Assert.Equal(2, data.ClassCount);
        // Round-robin: a0, b0, a1, b1, a2.
        Assert.Equal([0L, 1, 0, 1, 0], data.Labels.data<long>().ToArray());
        var k = new[] { 0, 0, 1, 1, 2 };
        var c = new[] { 0, 1, 0, 1, 0 };
        var values = data.Inputs.data<float>().ToArray();
        for (int n = 0; n < 5; n++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                    Assert.Equal((10 * c[n] + k[n] + x) / 255f, values[n * 12 + y * 4 + x]);
    }

    [Fact]
    public void ColourImagesHaveThreeChannelsInRgbOrder()
    {
        var dir = Directory.CreateTempSubdirectory("basin-images-").FullName;
        WritePng(Path.Combine(dir, "red", "1.png"), 2, 2, (x, y) => new SKColor(200, (byte)(10 * x), (byte)(20 * y)));
        using var data = ImageFolder.Load(dir);
        Assert.Equal([1L, 3, 2, 2], data.Inputs.shape);
        var v = data.Inputs.data<float>().ToArray();
        Assert.Equal([200 / 255f, 200 / 255f, 200 / 255f, 200 / 255f], v[0..4]);
        Assert.Equal([0f, 10 / 255f, 0f, 10 / 255f], v[4..8]);
        Assert.Equal([0f, 0f, 20 / 255f, 20 / 255f], v[8..12]);
    }

    [Fact]
    public void BadImageFoldersAreClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("basin-images-").FullName;
        Assert.Contains("no class subfolders", Assert.Throws<BasinException>(() => ImageFolder.Load(dir)).Message);
        WritePng(Path.Combine(dir, "a", "1.png"), 4, 4, (_, _) => Grey(1));
        WritePng(Path.Combine(dir, "b", "2.png"), 5, 4, (_, _) => Grey(1));
        Assert.Contains("every image must have one size", Assert.Throws<BasinException>(() => ImageFolder.Load(dir)).Message);
        File.Delete(Path.Combine(dir, "b", "2.png"));
        File.WriteAllText(Path.Combine(dir, "b", "2.png"), "not a png");
        Assert.Contains("not an image Basin can decode", Assert.Throws<BasinException>(() => ImageFolder.Load(dir)).Message);
        Assert.Contains("not found", Assert.Throws<BasinException>(() => ImageFolder.Load(Path.Combine(dir, "missing"))).Message);
    }

    [Fact]
    public void CsvWithIndexLabelsAndWithNamedLabels()
    {
        var dir = Directory.CreateTempSubdirectory("basin-csv-").FullName;
        var file = Path.Combine(dir, "d.csv");
        File.WriteAllText(file, "x1,Label,x2\n1.5,2,-1\n0,0,3e-1\n");
        using (var data = CsvTable.Load(file))
        {
            Assert.Equal([2L, 2], data.Inputs.shape);
            Assert.Equal([1.5f, -1f, 0f, 0.3f], data.Inputs.data<float>().ToArray());
            Assert.Equal([2L, 0], data.Labels.data<long>().ToArray());
            Assert.Equal(3, data.ClassCount);
        }
        File.WriteAllText(file, "x,label\n1,\"cat\"\n2,dog\n3,cat\n");
        using (var data = CsvTable.Load(file))
        {
            Assert.Equal([0L, 1, 0], data.Labels.data<long>().ToArray());
            Assert.Equal(2, data.ClassCount);
        }
    }

    [Fact]
    public void BadCsvIsAClearErrorNamingTheLine()
    {
        var dir = Directory.CreateTempSubdirectory("basin-csv-").FullName;
        var file = Path.Combine(dir, "d.csv");
        File.WriteAllText(file, "x,label\n1,0\nabc,1\n");
        Assert.Contains("line 3, column 'x': 'abc' is not a finite number", Assert.Throws<BasinException>(() => CsvTable.Load(file)).Message);
        File.WriteAllText(file, "x,y\n1,0\n");
        Assert.Contains("no column named 'label'", Assert.Throws<BasinException>(() => CsvTable.Load(file)).Message);
        File.WriteAllText(file, "x,label\n1,0,5\n");
        Assert.Contains("3 fields, but the header has 2", Assert.Throws<BasinException>(() => CsvTable.Load(file)).Message);
        File.WriteAllText(file, "");
        Assert.Contains("empty", Assert.Throws<BasinException>(() => CsvTable.Load(file)).Message);
    }

    [Fact]
    public void WithoutATestSourceEveryFifthExampleIsHeldOut()
    {
        var dir = Directory.CreateTempSubdirectory("basin-csv-").FullName;
        var file = Path.Combine(dir, "d.csv");
        File.WriteAllLines(file, new[] { "x,label" }.Concat(Enumerable.Range(0, 12).Select(i => $"{i},{i % 3}")));
        var (train, test) = DataSource.Load(DataSource.Parse("csv:" + file), null, null, null);
        using (train) using (test)
        {
            Assert.Equal([0f, 1, 2, 3, 5, 6, 7, 8, 10, 11], train.Inputs.data<float>().ToArray());
            Assert.Equal([4f, 9], test.Inputs.data<float>().ToArray());
            Assert.Equal(3, test.ClassCount);
        }
        var (few, fewTest) = DataSource.Load(DataSource.Parse("csv:" + file), null, 3, 1);
        using (few) using (fewTest)
        {
            Assert.Equal([0f, 1, 2], few.Inputs.data<float>().ToArray());
            Assert.Equal([4f], fewTest.Inputs.data<float>().ToArray());
        }
    }

    [Fact]
    public void AnImageFolderWithTrainAndTestSubfoldersUsesThemWithTheTrainingClasses()
    {
        var dir = Directory.CreateTempSubdirectory("basin-images-").FullName;
        WritePng(Path.Combine(dir, "train", "a", "1.png"), 2, 2, (_, _) => Grey(1));
        WritePng(Path.Combine(dir, "train", "b", "1.png"), 2, 2, (_, _) => Grey(2));
        WritePng(Path.Combine(dir, "test", "b", "1.png"), 2, 2, (_, _) => Grey(3));
        var (train, test) = DataSource.Load(DataSource.Parse("images:" + dir), null, null, null);
        using (train) using (test)
        {
            Assert.Equal(2, train.Count);
            Assert.Equal([1L], test.Labels.data<long>().ToArray());   // "b" is class 1 of the training data
            Assert.Equal(2, test.ClassCount);
        }
        WritePng(Path.Combine(dir, "test", "c", "1.png"), 2, 2, (_, _) => Grey(3));
        Assert.Contains("class 'c' is not a class of the training data",
            Assert.Throws<BasinException>(() => DataSource.Load(DataSource.Parse("images:" + dir), null, null, null)).Message);
    }

    [Fact]
    public void TensorFilesTakeTheClassCountFromTheLabels()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("basin-tensors-").FullName, "d.safetensors");
        using (var x = torch.tensor(new float[] { 0, 1, 2, 3, 4, 5 }, [3, 2]))
        using (var y = torch.tensor(new long[] { 0, 4, 1 }))
            SafeTensors.Save(file, new Dictionary<string, Tensor> { ["input"] = x, ["labels"] = y });
        using var data = TensorFile.Load(file);
        Assert.Equal(5, data.ClassCount);
        Assert.Contains("not a class of a model with 3 classes", Assert.Throws<BasinException>(() => TensorFile.Load(file, 3)).Message);
    }

    [Fact]
    public void DataSourceNamesParseAndBadOnesAreRefused()
    {
        Assert.Equal(DataSourceKind.Images, DataSource.Parse("images:/x").Kind);
        Assert.Equal(DataSourceKind.Csv, DataSource.Parse("CSV:a.csv").Kind);
        Assert.False(DataSource.IsUserData("fashion-mnist"));
        Assert.Contains("not a data source", Assert.Throws<BasinException>(() => DataSource.Parse("pictures:/x")).Message);
        Assert.Throws<BasinException>(() => DataSource.Load(DataSource.Parse("csv:a.csv"), DataSource.Parse("tensors:b"), null, null));
    }
}
