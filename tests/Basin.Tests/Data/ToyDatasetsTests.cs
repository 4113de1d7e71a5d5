using Basin.Data;
using Xunit;

namespace Basin.Tests.Data;

public class ToyDatasetsTests
{
    [Fact]
    public void NamesAndUnknownName()
    {
        Assert.Equal(new[] { "moons", "spirals", "8gaussians", "25gaussians", "swissroll" }, ToyDatasets.Names);
        var e = Assert.Throws<BasinException>(() => ToyDatasets.Create("circles", 10, 0));
        Assert.Equal("unknown toy data set 'circles'; known: moons, spirals, 8gaussians, 25gaussians, swissroll", e.Message);
        Assert.Throws<BasinException>(() => ToyDatasets.Create("moons", 0, 0));
        Assert.Throws<BasinException>(() => ToyDatasets.Create("moons", 10, 0, noise: -0.1));
        Assert.Throws<BasinException>(() => ToyDatasets.Create("moons", 10, 0, noise: double.NaN));
    }

    [Theory]
    [InlineData("moons", 2)]
    [InlineData("spirals", 2)]
    [InlineData("8gaussians", 8)]
    [InlineData("25gaussians", 25)]
    [InlineData("swissroll", 1)]
    public void ShapesLabelsAndBalancedClasses(string name, int classes)
    {
        const int n = 200;
        using var data = ToyDatasets.Create(name, n, seed: 1);
        Assert.Equal(new long[] { n, 2 }, data.Inputs.shape);
        Assert.Equal(classes, data.ClassCount);
        Assert.Equal(classes, ToyDatasets.ClassCount(name));
        var labels = data.Labels.data<long>().ToArray();
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)(i % classes)), labels);
        Assert.True(data.Inputs.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData("moons")]
    [InlineData("spirals")]
    [InlineData("8gaussians")]
    [InlineData("25gaussians")]
    [InlineData("swissroll")]
    public void SameSeedSameDataOtherSeedOtherData(string name)
    {
        using var a = ToyDatasets.Create(name, 50, seed: 7);
        using var b = ToyDatasets.Create(name, 50, seed: 7);
        using var c = ToyDatasets.Create(name, 50, seed: 8);
        Assert.Equal(a.Inputs.data<float>().ToArray(), b.Inputs.data<float>().ToArray());
        Assert.NotEqual(a.Inputs.data<float>().ToArray(), c.Inputs.data<float>().ToArray());
    }

    [Fact]
    public void EightGaussiansModeCentres()
    {
        var centres = Enumerable.Range(0, 8).Select(k => (2 * Math.Cos(k * Math.PI / 4) / 1.414, 2 * Math.Sin(k * Math.PI / 4) / 1.414)).ToArray();
        AssertModeMeans(ToyDatasets.Create("8gaussians", 8000, seed: 3), centres);
    }

    [Fact]
    public void TwentyFiveGaussiansModeCentres()
    {
        var centres = Enumerable.Range(0, 25).Select(k => ((-4 + 2 * (k / 5)) / 2.828, (-4 + 2 * (k % 5)) / 2.828)).ToArray();
        AssertModeMeans(ToyDatasets.Create("25gaussians", 10000, seed: 4), centres);
    }

    [Fact]
    public void GaussianSpreadIsTheGivenStdTimesTheScale()
    {
        using var data = ToyDatasets.Create("8gaussians", 8000, seed: 5, noise: 0.1);
        var (points, labels) = Points(data);
        var deviations = points.Select((p, i) => p.X - 2 * Math.Cos(labels[i] * Math.PI / 4) / 1.414).ToArray();
        var std = Math.Sqrt(deviations.Select(d => d * d).Average());
        Assert.InRange(std, 0.1 / 1.414 * 0.95, 0.1 / 1.414 * 1.05);
    }

    [Fact]
    public void MoonsWithoutNoiseLieOnTheirHalfCircles()
    {
        var (points, labels) = Points(ToyDatasets.Create("moons", 100, seed: 2, noise: 0));
        for (var i = 0; i < points.Length; i++)
        {
            var (x, y) = points[i];
            if (labels[i] == 0)
            {
                Assert.Equal(1, x * x + y * y, 1e-5);
                Assert.True(y >= -1e-6);
            }
            else
            {
                Assert.Equal(1, (x - 1) * (x - 1) + (y - 0.5) * (y - 0.5), 1e-5);
                Assert.True(y <= 0.5 + 1e-6);
            }
        }
    }

    [Fact]
    public void SpiralsWithoutNoiseFollowTheirArms()
    {
        var (points, labels) = Points(ToyDatasets.Create("spirals", 100, seed: 2, noise: 0));
        for (var i = 0; i < points.Length; i++)
        {
            var (x, y) = points[i];
            var r = Math.Sqrt(x * x + y * y);
            Assert.InRange(r, 0, 1 + 1e-6);
            var angle = 3 * Math.PI * r + labels[i] * Math.PI;
            Assert.Equal(r * Math.Cos(angle), x, 1e-4);
            Assert.Equal(r * Math.Sin(angle), y, 1e-4);
        }
    }

    [Fact]
    public void SwissRollWithoutNoiseIsTheScaledRoll()
    {
        var (points, labels) = Points(ToyDatasets.Create("swissroll", 200, seed: 2, noise: 0));
        Assert.All(labels, l => Assert.Equal(0, l));
        foreach (var (x, y) in points)
        {
            // (x, z) = t (cos t, sin t) / 7.5 with t in [1.5π, 4.5π]
            var t = 7.5 * Math.Sqrt(x * x + y * y);
            Assert.InRange(t, 1.5 * Math.PI - 1e-4, 4.5 * Math.PI + 1e-4);
            Assert.Equal(t * Math.Cos(t) / 7.5, x, 1e-4);
            Assert.Equal(t * Math.Sin(t) / 7.5, y, 1e-4);
        }
    }

    private static void AssertModeMeans(LabeledDataset data, (double X, double Y)[] centres)
    {
        using (data)
        {
            var (points, labels) = Points(data);
            for (var k = 0; k < centres.Length; k++)
            {
                var mine = points.Where((_, i) => labels[i] == k).ToArray();
                Assert.Equal(data.Count / centres.Length, mine.Length);
                Assert.Equal(centres[k].X, mine.Average(p => p.X), 0.01);
                Assert.Equal(centres[k].Y, mine.Average(p => p.Y), 0.01);
            }
        }
    }

    private static ((double X, double Y)[] Points, long[] Labels) Points(LabeledDataset data)
    {
        var values = data.Inputs.data<float>().ToArray();
        var points = Enumerable.Range(0, (int)data.Count).Select(i => ((double)values[2 * i], (double)values[2 * i + 1])).ToArray();
        return (points, data.Labels.data<long>().ToArray());
    }
}
