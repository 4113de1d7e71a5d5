using Xunit;

namespace Basin.Tests;

public class SampleStatisticsTests
{
    [Fact]
    public void TheSampleStandardDeviationDividesByNMinusOne()
    {
        Assert.Equal(Math.Sqrt(5.0 / 3.0), SampleStatistics.StandardDeviation([1, 2, 3, 4]), 15);
        Assert.Equal(0, SampleStatistics.StandardDeviation([7, 7, 7]));
        Assert.True(double.IsNaN(SampleStatistics.StandardDeviation([3])));
        Assert.True(double.IsNaN(SampleStatistics.StandardDeviation([])));
    }
}
