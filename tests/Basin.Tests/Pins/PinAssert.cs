using Xunit;

namespace Basin.Tests.Pins;

/// <summary>Exact comparison of doubles by their round-trip text, so a failure shows both values in full.</summary>
static class PinAssert
{
    public static void Exact(double expected, double actual) =>
        Assert.Equal(expected.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            actual.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
}
