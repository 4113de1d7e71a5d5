using Basin.Data;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Data;

public class LabelNoiseTests
{
    private static LabeledDataset Data(int n, int classes = 10) =>
        new("d", arange(n * 3, dtype: ScalarType.Float32).reshape(n, 3),
            tensor(Enumerable.Range(0, n).Select(i => (long)(i % classes)).ToArray(), new long[] { n }), classes);

    [Fact]
    public void ExactlyRoundFractionTimesNLabelsChangeAndAllOthersStay()
    {
        using var data = Data(1000);
        using var noisy = LabelNoise.Apply(data, 0.3, seed: 11);
        var before = data.Labels.data<long>().ToArray();
        var after = noisy.Dataset.Labels.data<long>().ToArray();

        Assert.Equal(300, noisy.CorruptedIndices.Count);
        Assert.Equal(noisy.CorruptedIndices.Order(), noisy.CorruptedIndices);
        Assert.Equal(300, noisy.CorruptedIndices.Distinct().Count());
        var corrupted = noisy.CorruptedIndices.ToHashSet();
        for (var i = 0; i < before.Length; i++)
        {
            if (corrupted.Contains(i)) Assert.NotEqual(before[i], after[i]);
            else Assert.Equal(before[i], after[i]);
            Assert.InRange(after[i], 0, 9);
        }
        Assert.Equal(data.Inputs.data<float>().ToArray(), noisy.Dataset.Inputs.data<float>().ToArray());
        Assert.Equal(10, noisy.Dataset.ClassCount);
        using var mask = noisy.CorruptedMask();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => corrupted.Contains(i)), mask.data<bool>().ToArray());
    }

    [Fact]
    public void DeterministicBySeed()
    {
        using var data = Data(500);
        using var a = LabelNoise.Apply(data, 0.5, seed: 1);
        using var b = LabelNoise.Apply(data, 0.5, seed: 1);
        using var c = LabelNoise.Apply(data, 0.5, seed: 2);
        Assert.Equal(a.CorruptedIndices, b.CorruptedIndices);
        Assert.Equal(a.Dataset.Labels.data<long>().ToArray(), b.Dataset.Labels.data<long>().ToArray());
        Assert.NotEqual(a.CorruptedIndices, c.CorruptedIndices);
    }

    [Fact]
    public void NewLabelsAreSpreadOverTheOtherClasses()
    {
        using var data = new LabeledDataset("zeros", zeros(9000, 1), zeros(9000, dtype: ScalarType.Int64), 10);
        using var noisy = LabelNoise.Apply(data, 1.0, seed: 3);
        var counts = noisy.Dataset.Labels.data<long>().ToArray().CountBy(l => l).ToDictionary();
        Assert.False(counts.ContainsKey(0));
        for (long k = 1; k < 10; k++) Assert.InRange(counts[k], 850, 1150); // 1000 expected, sd ≈ 30
    }

    [Theory]
    [InlineData(10, 0.0, 0)]
    [InlineData(10, 0.25, 3)] // 2.5 rounds away from zero
    [InlineData(10, 0.04, 0)]
    [InlineData(10, 1.0, 10)]
    public void CorruptedCountIsRoundedFractionOfN(int n, double fraction, int expected)
    {
        using var data = Data(n);
        using var noisy = LabelNoise.Apply(data, fraction, seed: 0);
        Assert.Equal(expected, noisy.CorruptedIndices.Count);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void FractionOutsideZeroOneIsRejected(double fraction)
    {
        using var data = Data(10);
        var e = Assert.Throws<BasinException>(() => LabelNoise.Apply(data, fraction, seed: 0));
        Assert.Contains("label-noise fraction must be in [0, 1]", e.Message);
    }

    [Fact]
    public void ClassCountMustCoverTheLabelsAndAllowAnotherLabel()
    {
        using var data = Data(10);
        Assert.Contains("label 5 at index 5 is outside 0..4", Assert.Throws<BasinException>(() => LabelNoise.Apply(data, 0.5, 0, classCount: 5)).Message);
        using var one = Data(10, classes: 1);
        Assert.Contains("at least 2 classes", Assert.Throws<BasinException>(() => LabelNoise.Apply(one, 0.5, 0)).Message);
    }

    [Fact]
    public void RandomSubsetIsDistinctOrderedAndSeeded()
    {
        using var data = Data(100);
        using var a = TrainingSubset.Random(data, 20, seed: 4);
        using var b = TrainingSubset.Random(data, 20, seed: 4);
        using var c = TrainingSubset.Random(data, 20, seed: 5);
        // Inputs row i is 3i, 3i+1, 3i+2, so the first column names the chosen example.
        var chosen = a.Inputs[.., 0].data<float>().ToArray().Select(v => (int)v / 3).ToArray();
        Assert.Equal(20, chosen.Distinct().Count());
        Assert.Equal(chosen.Order(), chosen);
        Assert.Equal(chosen.Select(i => (long)(i % 10)), a.Labels.data<long>().ToArray());
        Assert.Equal(a.Inputs.data<float>().ToArray(), b.Inputs.data<float>().ToArray());
        Assert.NotEqual(a.Inputs.data<float>().ToArray(), c.Inputs.data<float>().ToArray());
        Assert.Throws<BasinException>(() => TrainingSubset.Random(data, 101, 0));

        using var first = TrainingSubset.First(data, 3);
        Assert.Equal(new long[] { 0, 1, 2 }, first.Labels.data<long>().ToArray());
    }
}
