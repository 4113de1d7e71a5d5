using Basin.Robustness;
using Xunit;

namespace Basin.Tests.Robustness;

public class RobustnessStatisticsTests
{
    [Fact]
    public void AgreementKappaJaccardPearsonAndAucByHand()
    {
        bool[] a = [true, true, false, false], b = [true, false, false, false];
        var ag = RobustnessStatistics.Agree(a, b);
        // p_o = 3/4; p_e = ½·¼ + ½·¾ = ½; κ = (¾ − ½)/(1 − ½) = ½.
        Assert.Equal((0.75, 0.5), (ag.Fraction, ag.Kappa));
        Assert.Equal(0.5, RobustnessStatistics.Jaccard(a, b));
        Assert.True(double.IsNaN(RobustnessStatistics.Jaccard([false], [false])));
        Assert.Equal(1, RobustnessStatistics.Pearson([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(-1, RobustnessStatistics.Pearson([1, 2, 3], [3, 2, 1]), 12);
        Assert.True(double.IsNaN(RobustnessStatistics.Pearson([1, 1], [1, 2])));
        Assert.Equal(1, RobustnessStatistics.Auc([1, 2, 3, 4], [false, false, true, true]));
        Assert.Equal(0, RobustnessStatistics.Auc([4, 3, 2, 1], [false, false, true, true]));
        Assert.Equal(0.5, RobustnessStatistics.Auc([1, 1, 1, 1], [false, true, false, true]));
        // Positives 2, 3 against negatives 1, 3: pairs (2>1), (2<3), (3>1), (3=3) → (1 + 0 + 1 + ½)/4.
        Assert.Equal(0.625, RobustnessStatistics.Auc([1, 2, 3, 3], [false, true, true, false]));
        Assert.True(double.IsNaN(RobustnessStatistics.Auc([1, 2], [true, true])));
        Assert.Equal(2.5, RobustnessStatistics.Quantile([4, 1, 3, 2, double.NaN], 0.5));
        Assert.Equal(1.75, RobustnessStatistics.Quantile([4, 1, 3, 2], 0.25));
    }
}
