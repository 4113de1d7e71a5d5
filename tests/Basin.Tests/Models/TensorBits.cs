using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

/// <summary>Bit-for-bit tensor comparison (== would call -0 and +0 equal and NaN unequal to itself).</summary>
static class TensorBits
{
    public static bool Same(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var x = a.detach().cpu().contiguous();
        using var y = b.detach().cpu().contiguous();
        return a.dtype switch
        {
            ScalarType.Float32 => x.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits)
                .SequenceEqual(y.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits)),
            ScalarType.Float64 => x.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits)
                .SequenceEqual(y.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits)),
            ScalarType.Int64 => x.data<long>().ToArray().SequenceEqual(y.data<long>().ToArray()),
            _ => throw new NotSupportedException($"TensorBits.Same: {a.dtype}"),
        };
    }
}
