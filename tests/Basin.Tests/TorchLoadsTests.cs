using TorchSharp;
using Xunit;

namespace Basin.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        using var x = torch.arange(6, dtype: torch.float64).reshape(2, 3);
        using var y = torch.mm(x, x.t());
        Assert.Equal(new double[] { 5, 14, 14, 50 }, y.data<double>().ToArray());
    }
}
