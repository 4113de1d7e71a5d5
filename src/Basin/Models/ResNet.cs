using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// A small ResNet for 28x28 images with width multiplier w (CIFAR-style ResNet of He et al. 2016, one block per stage):
/// <code>
/// conv1  3x3, C→16w, stride 1, no bias → bn1 → ReLU                    28x28
/// layer1 BasicBlock 16w→16w, stride 1                                 28x28
/// layer2 BasicBlock 16w→32w, stride 2 (1x1 conv + BN downsample)      14x14
/// layer3 BasicBlock 32w→64w, stride 2 (1x1 conv + BN downsample)       7x7
/// global average pool → φ(x) ∈ R^(64w) → fc (64w→classes)
/// </code>
/// Parameter names follow torchvision ("layer2.0.downsample.1.running_var"); BatchNorm running statistics and
/// num_batches_tracked are buffers and therefore part of the state_dict. Any H,W ≥ 1 works; 28x28 is the design size.
/// </summary>
public sealed class ResNet : Classifier
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Sequential layer1;
    readonly Sequential layer2;
    readonly Sequential layer3;
    readonly Linear fc;

    public ResNet(int classCount, int width = 1, int inputChannels = 1) : base(nameof(ResNet))
    {
        if (classCount < 2) throw new BasinException($"resnet needs at least 2 classes, got {classCount}");
        if (width < 1) throw new BasinException($"resnet width multiplier must be positive, got {width}");
        if (inputChannels < 1) throw new BasinException($"resnet needs at least 1 input channel, got {inputChannels}");
        ClassCount = classCount;
        Width = width;
        InputChannels = inputChannels;
        long c1 = 16L * width, c2 = 32L * width, c3 = 64L * width;
        conv1 = nn.Conv2d(inputChannels, c1, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(c1);
        layer1 = nn.Sequential(new BasicBlock(c1, c1, 1));
        layer2 = nn.Sequential(new BasicBlock(c1, c2, 2));
        layer3 = nn.Sequential(new BasicBlock(c2, c3, 2));
        fc = nn.Linear(c3, classCount);
        RegisterComponents();
    }

    public int Width { get; }
    public int InputChannels { get; }
    public long FeatureCount => 64L * Width;
    public override int ClassCount { get; }
    public override string Spec => $"resnet:{Width}";
    public override string HeadName => nameof(fc);
    public override Linear Head => fc;

    public override Tensor Features(Tensor input)
    {
        var s = input.shape;
        if (s.Length != 4 || s[1] != InputChannels || s[2] < 1 || s[3] < 1)
            throw new BasinException($"{Spec} expects input [N,{InputChannels},H,W], got [{string.Join(",", s)}]");
        using var c = conv1.forward(input);
        using var b = BatchNorms.Forward(bn1, c);
        using var r = nn.functional.relu(b);
        using var l1 = layer1.forward(r);
        using var l2 = layer2.forward(l1);
        using var l3 = layer3.forward(l2);
        return l3.mean(new long[] { 2, 3 });
    }
}
