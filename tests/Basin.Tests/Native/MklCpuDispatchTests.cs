using Basin.Native;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Native;

public class MklCpuDispatchTests
{
    static bool IsAmd() => File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("vendor_id") && l.Contains("AuthenticAMD"));

    [Fact]
    public void OnAmdProcessorsMklIsToldToDispatchByFeatures()
    {
        var state = MklCpuDispatch.Status;
        if (IsAmd() && Environment.GetEnvironmentVariable("BASIN_MKL_DISPATCH") != "off")
            Assert.True(state == MklCpuDispatch.State.Patched, $"{state}: {MklCpuDispatch.Detail}");
        else
            Assert.NotEqual(MklCpuDispatch.State.Patched, state);
    }

    [Fact]
    public void MatrixProductsStayCorrectAfterTheDispatchChange()
    {
        _ = MklCpuDispatch.Status;
        var gen = new torch.Generator(5);
        using var a = torch.rand([128, 784], generator: gen);
        using var w = torch.rand([512, 784], generator: gen);
        using var fast = torch.nn.functional.linear(a, w);
        using var exact = torch.nn.functional.linear(a.to_type(torch.float64), w.to_type(torch.float64));
        double maxRel = ((fast.to_type(torch.float64) - exact).abs() / exact.abs()).max().item<double>();
        Assert.True(maxRel < 1e-5, $"max relative error {maxRel}");
    }
}
