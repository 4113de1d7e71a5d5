using Basin.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// The residual "basic block" of He et al. (2016), named as torchvision names it:
/// y = ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)), both convolutions 3x3 without bias.
/// When the stride or channel count changes, the shortcut is downsample = [1x1 conv (stride s, no bias), BatchNorm];
/// otherwise it is the identity.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Sequential? downsample;

    public BasicBlock(long inChannels, long outChannels, long stride) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var c1 = conv1.forward(x);
        using var b1 = BatchNorms.Forward(bn1, c1);
        using var r1 = nn.functional.relu(b1);
        using var c2 = conv2.forward(r1);
        using var b2 = BatchNorms.Forward(bn2, c2);
        using var shortcut = Shortcut(x);
        using var sum = b2.add(shortcut, Scalars.One);
        return nn.functional.relu(sum);
    }

    /// <summary>The identity, or downsample's 1x1 convolution and BatchNorm (run one by one: <see cref="BatchNorms"/>).</summary>
    Tensor Shortcut(Tensor x)
    {
        if (downsample is null) return x.alias();
        var parts = downsample.children().ToArray();
        using var conv = ((Conv2d)parts[0]).forward(x);
        return BatchNorms.Forward((BatchNorm2d)parts[1], conv);
    }
}
