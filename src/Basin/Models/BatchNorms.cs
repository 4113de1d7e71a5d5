using Basin.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// BatchNorm's forward pass as TorchSharp's <c>BatchNorm.forward</c> computes it (count the batch, then
/// <c>batch_norm</c> with the momentum, or the cumulative average when the momentum is null), but without the
/// temporary Scalar that forward makes to count the batch (<see cref="Scalars"/>).
/// </summary>
public static class BatchNorms
{
    public static Tensor Forward(BatchNorm2d bn, Tensor x)
    {
        if (x.dim() != 4) throw new BasinException($"BatchNorm2d expects a 4-D input [N,C,H,W], got [{string.Join(",", x.shape)}]");
        double factor = bn.momentum ?? 0.0;
        if (bn.training && bn.track_running_stats && bn.num_batches_tracked is { } count)
        {
            using (no_grad()) count.add_(Scalars.One, Scalars.One);
            if (bn.momentum is null) factor = 1.0 / count.item<long>();
        }
        bool useBatchStatistics = bn.training || (bn.running_mean is null && bn.running_var is null);
        bool passBuffers = !bn.training || bn.track_running_stats;
        return nn.functional.batch_norm(x, passBuffers ? bn.running_mean : null, passBuffers ? bn.running_var : null,
            bn.weight, bn.bias, useBatchStatistics, factor, bn.eps);
    }
}
