using Basin.Minima;
using Xunit;

namespace Basin.Tests.Minima;

/// <summary>The escape from the constructed example's split minimum: non-increasing, ending below L* − 1e-3.</summary>
public class EscapePathTests
{
    [Fact]
    public void TheEscapePathNeverRisesAndEndsBelowTheSplitMinimum()
    {
        using var point = ConstructedExample.Create();
        var r = EscapePath.Run(point.Net, point.Data, 1, 1, new EscapeOptions { MaxDescentSteps = 400 });
        double start = 1.0 / 24;
        Assert.True(Math.Abs(r.StartLoss - start) < 1e-15, $"L* = {r.StartLoss}");
        var line = r.Points.Where(p => p.Phase == EscapePhase.Line).ToArray();
        Assert.Equal(11, line.Length);
        Assert.Equal(0.5, line[0].Lambda);
        Assert.Equal(1.5, line[^1].Lambda);
        // On the line the loss is constant: every rise is rounding, below 1e-15.
        Assert.All(line, p => Assert.True(Math.Abs(p.Loss - start) <= 1e-15, $"λ = {p.Lambda}: {p.Loss - start}"));
        // Off the line every recorded step strictly lowers the loss.
        var off = r.Points.Where(p => p.Phase != EscapePhase.Line).ToArray();
        Assert.Equal(EscapePhase.Escape, off[0].Phase);
        Assert.True(off[0].Loss < line[^1].Loss);
        for (int i = 1; i < off.Length; i++) Assert.True(off[i].Loss < off[i - 1].Loss,
            $"step {off[i].Index}: {off[i - 1].Loss} → {off[i].Loss}");
        Assert.True(r.MaxIncrease <= 1e-15, $"largest rise {r.MaxIncrease}");
        Assert.True(r.EndLoss < start - 1e-3, $"end loss {r.EndLoss}");
        Assert.Equal(r.Points[^1].Loss, r.EndLoss);
        Assert.True(Math.Abs(r.EscapeEigenvalue - -1.583e-4) < 1e-7, $"escape eigenvalue {r.EscapeEigenvalue}");
    }

    [Fact]
    public void EscapeSettingsAreCheckedWhenSet()
    {
        string Error(Func<EscapeOptions> make) => Assert.Throws<BasinException>(() => make()).Message;
        Assert.Equal("λ values must be finite, got NaN", Error(() => new EscapeOptions { From = double.NaN }));
        Assert.Equal("the escape cannot start at the boundary λ = 1", Error(() => new EscapeOptions { To = 1 }));
        Assert.Equal("the walk needs at least 2 points, got 1", Error(() => new EscapeOptions { WalkPoints = 1 }));
        Assert.Equal("Armijo's constant must lie in (0, 0.5), got 0.5", Error(() => new EscapeOptions { Armijo = 0.5 }));
        Assert.Equal("L-BFGS needs a memory of at least 1, got 0", Error(() => new EscapeOptions() with { Memory = 0 }));
        Assert.Equal((0.5, 1.5, 11), (new EscapeOptions().From, new EscapeOptions().To, new EscapeOptions().WalkPoints));
    }

    [Fact]
    public void EscapingFromAPointWithoutNegativeCurvatureIsRefused()
    {
        using var point = ConstructedExample.Create();
        var e = Assert.Throws<BasinException>(() => EscapePath.Run(point.Net, point.Data, 1, 1, new EscapeOptions { To = 0.3 }));
        Assert.Contains("no negative curvature at λ = 0.3", e.Message);
    }
}

/// <summary>Random-direction probes: no direction lowers the loss at the split minimum, and none finds the saddle's either.</summary>
public class RandomProbesTests
{
    [Fact]
    public void RandomDirectionsFindNoDescentAtTheMinimumAndMissTheSaddle()
    {
        using var point = ConstructedExample.Create();
        var minimum = RandomProbes.Run(point.Net, point.Data, 1, 1, 0.5, directions: 300, radius: 1e-3, seed: 1);
        Assert.Equal(300, minimum.Directions);
        Assert.Equal(0, minimum.Lower);
        Assert.True(minimum.MinChange > 0, $"least change {minimum.MinChange}");
        // The saddle's negative curvature (−1.6e-4) is invisible to random directions at this radius.
        var saddle = RandomProbes.Run(point.Net, point.Data, 1, 1, 1.5, directions: 300, radius: 1e-3, seed: 1);
        Assert.Equal(0, saddle.Lower);
    }
}
