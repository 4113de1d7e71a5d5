using Basin.Minima;
using Xunit;

namespace Basin.Tests.Minima;

/// <summary>The constructed 12-point example against its independently computed float64 values (to 1e-6 relative).</summary>
public class ConstructedExampleTests
{
    static void Close(double expected, double actual, double relative = 1e-6, string? what = null) =>
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected), $"{what}: expected {expected:G8}, got {actual:G8}");

    /// <summary>Values rounded to the digits the reference gives: compares to half a unit in the last given digit or 1e-6 relative.</summary>
    static void Rounded(double expected, double actual, double lastDigit, string what) =>
        Assert.True(Math.Abs(actual - expected) <= Math.Max(0.5 * lastDigit, 1e-6 * Math.Abs(expected)), $"{what}: expected {expected:G8}, got {actual:G8}");

    [Fact]
    public void TheSmallNetworkIsAStrictMinimumWithLossOneTwentyFourthAndPositiveDefiniteB()
    {
        using var point = ConstructedExample.Create();
        var (loss, gradient) = NetLoss.LossAndGradient(point.Net, point.Data);
        Close(1.0 / 24, loss, 1e-14, "L*");
        Assert.True(NetLoss.Norm(gradient) < 1e-15, $"‖∇L‖ = {NetLoss.Norm(gradient)}");
        var h = SymmetricEigen.Of(NetLoss.Hessian(point.Net, point.Data)).Values;
        double[] expected = [0.006765, 0.010587, 0.134968, 1.196613];
        for (int i = 0; i < 4; i++) Rounded(expected[i], h[i], 1e-6, $"eig(H_small)[{i}]");
        var b = SymmetricEigen.Of(SplitCurvature.At(point.Net, point.Data, 1, 1).B).Values;
        Rounded(6.5288e-5, b[0], 1e-9, "eig(B)[0]");
        Rounded(5.1450e-4, b[1], 1e-8, "eig(B)[1]");
    }

    [Fact]
    public void AtOneHalfTheSplitSpectrumIsTheSmallOnePlusHalfOfBPlusTheLine()
    {
        using var point = ConstructedExample.Create();
        var split = NeuronSplit.Split(point.Net, 1, 1, 0.5);
        Assert.Equal(7, split.ParameterCount());
        var eigen = SymmetricEigen.Of(NetLoss.Hessian(split, point.Data));
        var v = eigen.Values;
        Assert.True(Math.Abs(v[0]) < 1e-15, $"kernel eigenvalue {v[0]}");
        double[] expected = [3.264e-5, 2.5725e-4, 3.4402e-3, 5.4553e-3, 0.216814, 1.421464];
        double[] digits = [1e-8, 1e-8, 1e-7, 1e-7, 1e-6, 1e-6];
        for (int i = 0; i < 6; i++) Rounded(expected[i], v[i + 1], digits[i], $"eigenvalue {i + 1} at λ = 0.5");
        // Exactly ½·eig(B) at λ = ½.
        var b = SymmetricEigen.Of(SplitCurvature.At(point.Net, point.Data, 1, 1).B).Values;
        Close(0.5 * b[0], v[1], 1e-9, "½ eig(B)[0]");
        Close(0.5 * b[1], v[2], 1e-9, "½ eig(B)[1]");
        // The kernel is (0, 0, 0, 0, −1, 1, 0)/√2: the v_r − v_r' direction.
        var k = eigen.Vectors[0];
        double s = Math.Sign(k[5]);
        double[] kernel = [0, 0, 0, 0, -Math.Sqrt(0.5), Math.Sqrt(0.5), 0];
        for (int i = 0; i < 7; i++) Assert.True(Math.Abs(s * k[i] - kernel[i]) < 1e-9, $"kernel[{i}] = {k[i]}");
    }

    [Fact]
    public void OutsideTheUnitIntervalTheSplitPointHasTwoNegativeEigenvalues()
    {
        using var point = ConstructedExample.Create();
        foreach (var lambda in new[] { 1.5, -0.5 })
        {
            var v = SymmetricEigen.Of(NetLoss.Hessian(NeuronSplit.Split(point.Net, 1, 1, lambda), point.Data)).Values;
            Rounded(-1.583e-4, v[0], 1e-7, $"λ = {lambda}: first");
            Rounded(-1.97e-5, v[1], 1e-7, $"λ = {lambda}: second");
            Assert.True(Math.Abs(v[2]) < 1e-15 && v[3] > 1e-3, $"λ = {lambda}: {string.Join(", ", v)}");
        }
        var quarter = SymmetricEigen.Of(NetLoss.Hessian(NeuronSplit.Split(point.Net, 1, 1, 0.25), point.Data)).Values;
        Assert.True(quarter[0] > -1e-15, $"λ = 0.25: {quarter[0]}");
        Rounded(1.96e-5, quarter[1], 1e-7, "λ = 0.25: second");
        Rounded(1.534e-4, quarter[2], 1e-7, "λ = 0.25: third");
    }
}
