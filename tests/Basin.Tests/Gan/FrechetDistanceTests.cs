using Basin.Gan;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class FrechetDistanceTests
{
    [Fact]
    public void IdenticalSetsHaveDistanceZero()
    {
        using var x = randn(300, 6, generator: new TorchSharp.torch.Generator(1)) * 2 + 0.5;
        Assert.Equal(0.0, FrechetDistance.FromFeatures(x, x), 6);
    }

    [Fact]
    public void TranslationAddsTheSquaredShift()
    {
        // Equal covariances cancel exactly: FD = ‖c‖².
        using var x = randn(200, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(2));
        using var y = x + tensor(new[] { 1.0, -2.0, 0.5 }, ScalarType.Float64);
        Assert.Equal(1 + 4 + 0.25, FrechetDistance.FromFeatures(x, y), 8);
    }

    [Fact]
    public void DiagonalGaussiansMatchTheClosedForm()
    {
        // Commuting covariances: FD = ‖μ₁ − μ₂‖² + Σ (√a_i − √b_i)².
        using var mu1 = tensor(new[] { 0.0, 1.0, 2.0 }, ScalarType.Float64);
        using var mu2 = tensor(new[] { 1.0, 1.0, 0.0 }, ScalarType.Float64);
        using var s1 = diag(tensor(new[] { 4.0, 1.0, 9.0 }, ScalarType.Float64));
        using var s2 = diag(tensor(new[] { 1.0, 1.0, 0.25 }, ScalarType.Float64));
        double expected = 1 + 0 + 4 + (2 - 1) * (2 - 1) + 0 + (3 - 0.5) * (3 - 0.5);
        Assert.Equal(expected, FrechetDistance.FromMoments(mu1, s1, mu2, s2), 10);
    }

    [Fact]
    public void NonCommutingTwoByTwoGaussiansMatchTheClosedForm()
    {
        // For 2×2 PSD M with eigenvalues λ₁, λ₂: (√λ₁ + √λ₂)² = tr M + 2√det M, and Σ₁^½Σ₂Σ₁^½ has
        // tr = tr(Σ₁Σ₂), det = det Σ₁ · det Σ₂.
        double[,] a = { { 2, 0.8 }, { 0.8, 1 } }, b = { { 0.5, -0.3 }, { -0.3, 3 } };
        double trAB = a[0, 0] * b[0, 0] + a[0, 1] * b[1, 0] + a[1, 0] * b[0, 1] + a[1, 1] * b[1, 1];
        double detA = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0], detB = b[0, 0] * b[1, 1] - b[0, 1] * b[1, 0];
        double traceRoot = Math.Sqrt(trAB + 2 * Math.Sqrt(detA * detB));
        double expected = 0.5 * 0.5 + 2 * 2 + (a[0, 0] + a[1, 1]) + (b[0, 0] + b[1, 1]) - 2 * traceRoot;

        using var mu1 = tensor(new[] { 0.5, 0.0 }, ScalarType.Float64);
        using var mu2 = tensor(new[] { 0.0, 2.0 }, ScalarType.Float64);
        using var s1 = tensor(new[] { a[0, 0], a[0, 1], a[1, 0], a[1, 1] }, new long[] { 2, 2 }, ScalarType.Float64);
        using var s2 = tensor(new[] { b[0, 0], b[0, 1], b[1, 0], b[1, 1] }, new long[] { 2, 2 }, ScalarType.Float64);
        Assert.Equal(expected, FrechetDistance.FromMoments(mu1, s1, mu2, s2), 10);
        Assert.Equal(expected, FrechetDistance.FromMoments(mu2, s2, mu1, s1), 10);
    }

    [Fact]
    public void ComputeRunsTheFeatureExtractorInBatches()
    {
        // Features φ(x) = 2x on [N,1,2,2] samples: FD scales the squared shift by 4.
        using var x = randn(50, 1, 2, 2, generator: new TorchSharp.torch.Generator(3));
        using var y = x + 0.5f;
        int calls = 0;
        double fd = FrechetDistance.Compute(x, y, batch => { calls++; return batch.flatten(1) * 2; }, batchSize: 16);
        Assert.Equal(8, calls); // ⌈50/16⌉ = 4 per set
        Assert.Equal(4 * 4 * 0.25, fd, 5);
    }

    [Fact]
    public void RejectsMismatchedFeatures()
    {
        using var a = zeros(5, 3);
        using var b = zeros(5, 4);
        Assert.Equal("Fréchet distance needs feature sets [N,m] with the same m, got [5,3] and [5,4]",
            Assert.Throws<BasinException>(() => FrechetDistance.FromFeatures(a, b)).Message);
        using var one = zeros(1, 3);
        Assert.Throws<BasinException>(() => FrechetDistance.FromFeatures(one, a));
    }
}
