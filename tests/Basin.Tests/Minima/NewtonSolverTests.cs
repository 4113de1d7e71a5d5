using Basin.Minima;
using Basin.Models;
using Xunit;

namespace Basin.Tests.Minima;

/// <summary>The float64 trust-region Newton solver, the random restarts and the survey of B.</summary>
public class NewtonSolverTests
{
    [Fact]
    public void NewtonReturnsToTheFixturesStrictMinimumFromANearbyStart()
    {
        using var point = ConstructedExample.Create();
        var r = NewtonSolver.Minimize(point.Net.With([1.2, -0.1, 0.9, 0.05]), point.Data);
        Assert.True(r.Converged && r.GradientNorm <= 1e-10, $"‖∇L‖ = {r.GradientNorm}");
        Assert.True(r.IsStrictMinimum());
        double[] expected = [1, 0, 1, 0];
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(r.Net.Theta[i] - expected[i]) < 1e-8, $"θ[{i}] = {r.Net.Theta[i]}");
        Assert.True(Math.Abs(r.Loss - 1.0 / 24) < 1e-15);
        Assert.True(Math.Abs(r.SmallestEigenvalue - 0.006765) < 1e-6);
    }

    [Fact]
    public void TheTrustRegionStepUsesNegativeCurvature()
    {
        // H = diag(−1, 2), g = (0, 0): the hard case; the step goes to the boundary along the negative eigenvector.
        var eigen = new SymmetricEigen([-1, 2], [[1, 0], [0, 1]]);
        var p = NewtonSolver.Subproblem(eigen, [0, 0], 0.5);
        Assert.Equal(0.5, Math.Abs(p[0]), 12);
        Assert.Equal(0, p[1], 12);
        // H = diag(1, 4), g = (1, 4): the Newton step (−1, −1) lies inside a radius of 2.
        var q = NewtonSolver.Subproblem(new SymmetricEigen([1, 4], [[1, 0], [0, 1]]), [1, 4], 2);
        Assert.Equal(-1, q[0], 12);
        Assert.Equal(-1, q[1], 12);
    }

    [Fact]
    public void RandomRestartsOfTheWiderNetworkBeatTheSplitMinimum()
    {
        using var point = ConstructedExample.Create();
        var r = RandomFits.BestOfRestarts([1, 2, 1], Activation.Sigmoid, point.Data, restarts: 6, seed: 1);
        Assert.Equal(6, r.Losses.Count);
        Assert.Equal(r.Losses.Min(), r.BestLoss);
        Assert.True(r.BestLoss < 1.0 / 24 - 0.01, $"best {r.BestLoss}");
    }

    [Fact]
    public void TheSurveyCountsAddUpAndRepeatForASeed()
    {
        var spec = new SurveySpec { Sizes = [1, 2, 1], Samples = 8, Fits = 3, Seed = 5, MaxIterations = 60 };
        var a = RandomFits.Survey(spec);
        Assert.True(a.StrictMinima <= a.Converged && a.Converged <= a.Fits);
        Assert.Equal(2 * a.StrictMinima, a.Units);
        Assert.Equal(a.Units, a.PositiveDefinite + a.NegativeDefinite + a.Indefinite + a.Singular);
        Assert.Equal(0, a.MNonzero);
        Assert.Equal(a, RandomFits.Survey(spec));
    }
}
