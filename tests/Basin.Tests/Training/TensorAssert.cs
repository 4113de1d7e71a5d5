using System.Runtime.InteropServices;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

internal static class TensorAssert
{
    /// <summary>Same shape, same dtype, same bytes (torch.equal, but also telling −0 from 0 and NaN from NaN).</summary>
    public static void BitIdentical(Tensor expected, Tensor actual, string what = "tensor")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(Bytes(expected).AsSpan().SequenceEqual(Bytes(actual)), $"{what}: values differ");
    }

    static byte[] Bytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.dtype switch
        {
            ScalarType.Float32 => MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()).ToArray(),
            ScalarType.Float64 => MemoryMarshal.AsBytes(c.data<double>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int64 => MemoryMarshal.AsBytes(c.data<long>().ToArray().AsSpan()).ToArray(),
            ScalarType.Byte => c.data<byte>().ToArray(),
            _ => throw new NotSupportedException(c.dtype.ToString()),
        };
    }
}
