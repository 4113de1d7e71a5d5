using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// 2×2 max pooling with stride 2 (<c>max_pool2d(x, 2)</c>). When autograd is off (evaluation, teachers, measures) it
/// takes the maximum of column pairs and then of row pairs, elementwise on strided views: the same values bit for
/// bit (a maximum is exact), about 10× faster than libtorch 2.10's CPU pooling kernel, whose no-grad path is as slow
/// as the one that records indices. With autograd on it is <c>max_pool2d</c>, whose backward is the fast one.
/// </summary>
public static class MaxPool
{
    public static Tensor TwoByTwo(Tensor x)
    {
        var s = x.shape;
        if (torch.is_grad_enabled() || s.Length != 4 || s[2] % 2 != 0 || s[3] % 2 != 0)
            return nn.functional.max_pool2d(x, 2);
        using var scope = NewDisposeScope();
        var columns = x.view(s[0], s[1], s[2], s[3] / 2, 2);
        var widthPooled = columns.select(4, 0).maximum(columns.select(4, 1));     // [N,C,H,W/2]
        var rows = widthPooled.view(s[0], s[1], s[2] / 2, 2, s[3] / 2);
        return rows.select(3, 0).maximum(rows.select(3, 1)).MoveToOuterDisposeScope();
    }
}
