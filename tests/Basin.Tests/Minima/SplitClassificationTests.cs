using Basin.Experiments.Minima;
using Basin.Minima;
using Xunit;

namespace Basin.Tests.Minima;

/// <summary>Predicted types and inertia against the full Hessian's spectrum, on the three constructed cases; refusals.</summary>
public class SplitClassificationTests
{
    [Fact]
    public void TheFixtureHasMinimaInsideTheUnitIntervalSaddlesOutsideAndBoundariesAtTheEnds()
    {
        using var point = ConstructedExample.Create();
        var c = SplitClassification.Classify(point.Net, point.Data, 1, 1, [-0.5, 0, 0.25, 0.5, 1, 1.5]);
        Assert.True(c.MIsZero);
        Assert.All(c.BEigenvalues, b => Assert.True(b > 0));
        Assert.Equal(new Inertia(0, 0, 4), c.SmallInertia);
        PointType[] expected = [PointType.Saddle, PointType.Boundary, PointType.Minimum, PointType.Minimum, PointType.Boundary, PointType.Saddle];
        Assert.Equal(expected, c.Points.Select(p => p.Predicted));
        foreach (var p in c.Points)
        {
            if (p.Predicted == PointType.Boundary)
            {
                Assert.Null(p.Observed);
                Assert.Null(p.Agrees);
                continue;
            }
            Assert.Equal(p.Predicted, p.Observed);
            Assert.True(p.Agrees);
            Assert.Equal(p.PredictedInertia, p.ObservedInertia);
            Assert.True(p.KernelLineCosine > 1 - 1e-9, $"λ = {p.Lambda}: kernel cosine {p.KernelLineCosine}");
        }
        Assert.Equal(new Inertia(2, 1, 4), c.Points[0].ObservedInertia);
        Assert.Equal(new Inertia(0, 1, 6), c.Points[3].ObservedInertia);
    }

    [Fact]
    public void AMultiOutputSplitIsASaddleForEveryLambdaAlthoughBIsPositiveDefinite()
    {
        using var point = MinimaSource.Build(MinimaCase.MultiOutput);
        var c = SplitClassification.Classify(point.Net, point.Data, 1, 1, [-0.5, 0.25, 0.5, 1.5]);
        Assert.Equal(0, c.SmallInertia.Negative + c.SmallInertia.Zero);
        Assert.All(c.BEigenvalues, b => Assert.True(b > 0));
        Assert.False(c.MIsZero);
        Assert.True(c.OutgoingTimesMNorm <= 1e-12, $"‖v*ᵀM‖ = {c.OutgoingTimesMNorm}");
        Assert.True(c.MNorm > 1e-3, $"‖M‖ = {c.MNorm}");
        foreach (var p in c.Points)
        {
            Assert.Equal(PointType.Saddle, p.Predicted);
            Assert.Equal(PointType.Saddle, p.Observed);
            Assert.True(p.Agrees);
            Assert.True(p.PlaneCurvature < 0, $"λ = {p.Lambda}: plane curvature {p.PlaneCurvature}");
        }
        // Inside (0, 1) only M makes the saddle: B alone would give a minimum there.
        Assert.Contains("M ≠ 0 adds 1", c.Points[2].Reason);
        Assert.Equal(new Inertia(1, 1, 8), c.Points[2].ObservedInertia);
    }

    [Fact]
    public void AnInnerLayerSplitAddsTheNegativeDirectionsOfTheSplitBlock()
    {
        using var point = MinimaSource.Build(MinimaCase.Deep);
        var c = SplitClassification.Classify(point.Net, point.Data, 1, 1, [0.3, 0.5, 1.5]);
        Assert.False(c.MIsZero);
        Assert.True(c.GradientNorm < 1e-8);
        Assert.True(c.OutgoingTimesMNorm <= 1e-5 * c.MNorm, $"‖v*ᵀM‖ = {c.OutgoingTimesMNorm}, ‖M‖ = {c.MNorm}");
        foreach (var p in c.Points)
        {
            Assert.True(p.Agrees, $"λ = {p.Lambda}: predicted {p.PredictedInertia}, observed {p.ObservedInertia}");
            Assert.Equal(c.SmallInertia.Negative + p.BlockInertia!.Negative, p.ObservedInertia!.Negative);
            Assert.True(p.PlaneCurvature < 0);
        }
    }

    [Fact]
    public void ANonCriticalStartIsRefusedWithItsGradientNorm()
    {
        using var point = ConstructedExample.Create();
        var moved = point.Net.With([1.01, 0, 1, 0]);
        var e = Assert.Throws<BasinException>(() => SplitClassification.Classify(moved, point.Data, 1, 1, [0.5]));
        Assert.StartsWith("the starting point is not critical: ‖∇L‖ = ", e.Message);
        Assert.Contains("polish", e.Message);
        Assert.Equal("give at least one λ", Assert.Throws<BasinException>(() => SplitClassification.Classify(point.Net, point.Data, 1, 1, [])).Message);
        Assert.Contains("unit 2 does not exist", Assert.Throws<BasinException>(() => SplitClassification.Classify(point.Net, point.Data, 1, 2, [0.5])).Message);
    }
}
