using Basin.Data;
using Basin.Data.Corruptions;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Data.Corruptions;

/// <summary>The MNIST-C corruptions: identities, exact counts, seeding per sample, and bad input.</summary>
public class CorruptionTests
{
    /// <summary>n random 8-bit 28×28 images (values k/255 in float32, as the IDX reader makes them).</summary>
    static LabeledDataset Images(int n, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new float[n * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = random.Next(256) / 255f;
        var labels = Enumerable.Range(0, n).Select(i => (long)(i % 10)).ToArray();
        return new LabeledDataset("test", tensor(pixels, [n, 1, 28, 28]), tensor(labels), 10);
    }

    static LabeledDataset Constant(int n, float value)
    {
        var pixels = Enumerable.Repeat(value, n * 784).ToArray();
        return new LabeledDataset("constant", tensor(pixels, [n, 1, 28, 28]), tensor(new long[n]), 10);
    }

    static float[] Pixels(LabeledDataset d) => d.Inputs.data<float>().ToArray();

    [Fact]
    public void SeverityZeroIsTheIdentityForEveryCorruption()
    {
        using var data = Images(6);
        var original = Pixels(data);
        Assert.Equal(16, ImageCorruptions.All.Count);
        foreach (var c in ImageCorruptions.All)
        {
            using var same = ImageCorruptions.Apply(data, c, 0);
            Assert.Equal(original, Pixels(same));
        }
    }

    [Fact]
    public void EveryCorruptionIsDeterministicPerSampleAndChangesTheImages()
    {
        using var data = Images(8);
        using var tail = data.Select(tensor(new long[] { 5, 6, 7 }));
        var original = Pixels(data);
        foreach (var c in ImageCorruptions.All)
            foreach (int s in new[] { 1, 3, 5 })
            {
                using var a = ImageCorruptions.Apply(data, c, s, seed: 7);
                using var b = ImageCorruptions.Apply(data, c, s, seed: 7);
                var pa = Pixels(a);
                Assert.Equal(pa, Pixels(b));
                Assert.NotEqual(original, pa);
                Assert.All(pa, v => Assert.InRange(v, 0f, 1f));
                // Samples 5..7 alone, seeded by their index in the whole set, get the same images as in the whole set.
                using var t = ImageCorruptions.Apply(tail, c, s, seed: 7, firstIndex: 5);
                Assert.Equal(pa[(5 * 784)..], Pixels(t));
            }
        // Another base seed gives other noise.
        using var x = ImageCorruptions.Apply(data, ImageCorruptions.Get("gaussian_noise"), 2, seed: 7);
        using var y = ImageCorruptions.Apply(data, ImageCorruptions.Get("gaussian_noise"), 2, seed: 8);
        Assert.NotEqual(Pixels(x), Pixels(y));
    }

    [Theory]
    [InlineData("contrast", 1.0)]
    [InlineData("brightness", 0.0)]
    [InlineData("quantize", 8.0)]
    [InlineData("rotate", 0.0)]
    [InlineData("shear", 0.0)]
    [InlineData("scale", 1.0)]
    [InlineData("translate", 0.0)]
    public void NeutralParametersAreTheIdentityBitForBit(string name, double neutral)
    {
        using var data = Images(4);
        var c = ImageCorruptions.Get(name) with { Parameters = [neutral, neutral, neutral, neutral, neutral] };
        using var same = ImageCorruptions.Apply(data, c, 3);
        Assert.Equal(Pixels(data), Pixels(same));
    }

    [Theory]
    [InlineData("gaussian_blur")]
    [InlineData("defocus_blur")]
    [InlineData("pixelate")]
    public void BlursAndPixelationKeepAConstantImage(string name)
    {
        using var data = Constant(2, 0.4f);
        foreach (int s in new[] { 1, 5 })
        {
            using var blurred = ImageCorruptions.Apply(data, ImageCorruptions.Get(name), s);
            Assert.All(Pixels(blurred), v => Assert.Equal(0.4, v, 1e-6));
        }
    }

    [Fact]
    public void ImpulseNoiseSetsExactlyRoundCTimesNPixelsHalfToZero()
    {
        using var data = Constant(3, 0.5f);
        foreach (var (s, c) in new[] { (1, 0.03), (4, 0.17), (5, 0.27) })
        {
            using var noisy = ImageCorruptions.Apply(data, ImageCorruptions.Get("impulse_noise"), s);
            var p = Pixels(noisy);
            int k = (int)Math.Round(c * 784, MidpointRounding.AwayFromZero);   // 24, 133, 212
            for (int n = 0; n < 3; n++)
            {
                var image = p[(n * 784)..((n + 1) * 784)];
                Assert.Equal(k, image.Count(v => v != 0.5f));
                Assert.Equal(k / 2, image.Count(v => v == 0f));
                Assert.Equal(k - k / 2, image.Count(v => v == 1f));
            }
        }
    }

    [Fact]
    public void ShotNoiseHasMeanXAndGaussianNoiseHasStandardDeviationC()
    {
        using var data = Constant(128, 0.1f);   // 100,352 pixels; Poisson(6)/60 stays below 1, so clipping never acts
        using var shot = ImageCorruptions.Apply(data, ImageCorruptions.Get("shot_noise"), 1);
        var p = Pixels(shot);
        double mean = p.Average(v => (double)v);
        double se = Math.Sqrt(0.1 / 60 / p.Length);
        Assert.InRange(mean, 0.1 - 3 * se, 0.1 + 3 * se);
        Assert.All(p, v => Assert.Equal(Math.Round(v * 60), v * 60, 1e-4));   // multiples of 1/c

        using var half = Constant(128, 0.5f);
        using var gauss = ImageCorruptions.Apply(half, ImageCorruptions.Get("gaussian_noise"), 1);   // c = 0.08: 6 SD from the clip
        var g = Pixels(gauss);
        double sd = Math.Sqrt(g.Average(v => (v - 0.5) * (v - 0.5)));
        Assert.InRange(sd, 0.08 * 0.99, 0.08 * 1.01);
    }

    [Fact]
    public void TranslateShiftsByCPixelsAndStripeAndInverseAreExact()
    {
        var pixels = new float[784];
        pixels[14 * 28 + 14] = 1;
        using var dot = new LabeledDataset("dot", tensor(pixels, [1, 1, 28, 28]), tensor(new long[1]), 10);
        using var moved = ImageCorruptions.Apply(dot, ImageCorruptions.Get("translate"), 3);
        var p = Pixels(moved);
        Assert.Equal(1, p.Count(v => v == 1f));
        int at = Array.IndexOf(p, 1f);
        Assert.Equal((3, 3), (Math.Abs(at / 28 - 14), Math.Abs(at % 28 - 14)));

        using var data = Images(2);
        var x = Pixels(data);
        using var inverse = ImageCorruptions.Apply(data, ImageCorruptions.Get("inverse"), 1);
        Assert.Equal(x.Select(v => 1 - v), Pixels(inverse));
        using var stripe = ImageCorruptions.Apply(data, ImageCorruptions.Get("stripe"), 5);
        var st = Pixels(stripe);
        for (int i = 0; i < x.Length; i++)
        {
            int col = i % 28;
            Assert.Equal(col < 7 || col >= 21 ? 1 - x[i] : x[i], st[i]);
        }
    }

    [Fact]
    public void QuantizeToOneBitGivesZerosAndOnes()
    {
        using var data = Images(2);
        using var q = ImageCorruptions.Apply(data, ImageCorruptions.Get("quantize"), 5);
        Assert.Equal(Pixels(data).Select(v => MathF.Round(v)), Pixels(q));
    }

    [Fact]
    public void BadNamesAndSeveritiesAreOneLineErrors()
    {
        var e = Assert.Throws<BasinException>(() => ImageCorruptions.Parse("gaussian_noise,fog"));
        Assert.StartsWith("unknown corruption 'fog' (known: gaussian_noise, shot_noise,", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        static string Error(string text) => Assert.Throws<BasinException>(() => ImageCorruptions.ParseSeverities(text)).Message;
        Assert.Equal("severity must be in 1–5, got 6", Error("1-6"));
        Assert.Equal("severity must be in 1–5, got 0", Error("0"));
        Assert.Contains("is not a severity", Assert.Throws<BasinException>(() => ImageCorruptions.ParseSeverities("a")).Message);
        using var data = Images(1);
        Assert.Equal("severity must be in 1–5, got 9",
            Assert.Throws<BasinException>(() => ImageCorruptions.Apply(data, ImageCorruptions.Get("contrast"), 9)).Message);
        Assert.Equal([1, 2, 3, 4, 5], ImageCorruptions.ParseSeverities("1-5"));
        Assert.Equal([2, 4], ImageCorruptions.ParseSeverities("4, 2"));
        Assert.Equal(["rotate", "inverse"], ImageCorruptions.Parse("Rotate, inverse,rotate").Select(c => c.Name));
        Assert.Equal(ImageCorruptions.Names, ImageCorruptions.Parse("all").Select(c => c.Name));
        using var outside = new LabeledDataset("raw", tensor(Enumerable.Repeat(2f, 784).ToArray(), [1, 1, 28, 28]),
            tensor(new long[1]), 10);
        Assert.Contains("pixel values in [0, 1]",
            Assert.Throws<BasinException>(() => ImageCorruptions.Apply(outside, ImageCorruptions.Get("contrast"), 1)).Message);
    }
}
