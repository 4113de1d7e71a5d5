using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// LeNet-5 as PyTorch users write it for 28x28 inputs:
/// conv1 (C→6, 5x5, padding 2) → ReLU → max-pool 2 → conv2 (6→16, 5x5) → ReLU → max-pool 2
/// → flatten (16·5·5 = 400) → fc1 (400→120) → ReLU → fc2 (120→84) → ReLU → fc3 (84→classes).
/// φ(x) is the 84-dimensional fc2 output after its ReLU; the head is fc3.
/// </summary>
public sealed class LeNet5 : Classifier
{
    public const int ImageSize = 28;
    public const int FeatureCount = 84;

    // Field names are the PyTorch parameter prefixes: RegisterComponents() names submodules after them,
    // and their declaration order is the state_dict order.
    readonly Conv2d conv1;
    readonly Conv2d conv2;
    readonly Linear fc1;
    readonly Linear fc2;
    readonly Linear fc3;

    public LeNet5(int classCount, int inputChannels = 1) : base(nameof(LeNet5))
    {
        if (classCount < 2) throw new BasinException($"lenet5 needs at least 2 classes, got {classCount}");
        if (inputChannels < 1) throw new BasinException($"lenet5 needs at least 1 input channel, got {inputChannels}");
        InputChannels = inputChannels;
        ClassCount = classCount;
        conv1 = nn.Conv2d(inputChannels, 6, 5, padding: 2);
        conv2 = nn.Conv2d(6, 16, 5);
        fc1 = nn.Linear(16 * 5 * 5, 120);
        fc2 = nn.Linear(120, FeatureCount);
        fc3 = nn.Linear(FeatureCount, classCount);
        RegisterComponents();
    }

    public int InputChannels { get; }
    public override string Spec => "lenet5";
    public override int ClassCount { get; }
    public override string HeadName => nameof(fc3);
    public override Linear Head => fc3;

    public override bool CanReplay => true;

    public override Tensor Replay(Tensor input, LayerStep step)
    {
        CheckInput(input);
        var p1 = MaxPool.TwoByTwo(nn.functional.relu(step("conv1", input)));
        var p2 = MaxPool.TwoByTwo(nn.functional.relu(step("conv2", p1)));
        var a1 = nn.functional.relu(step("fc1", p2.flatten(1)));
        return step(nameof(fc3), nn.functional.relu(step("fc2", a1)));
    }

    public override Classifier NewOfSameArchitecture() => new LeNet5(ClassCount, InputChannels);

    public override bool IsReluNetwork => true;

    void CheckInput(Tensor input)
    {
        var s = input.shape;
        if (s.Length != 4 || s[1] != InputChannels || s[2] != ImageSize || s[3] != ImageSize)
            throw new BasinException($"lenet5 expects input [N,{InputChannels},{ImageSize},{ImageSize}], got [{string.Join(",", s)}]");
    }

    public override Tensor Features(Tensor input)
    {
        CheckInput(input);
        using var c1 = conv1.forward(input);
        using var r1 = nn.functional.relu(c1);
        using var p1 = MaxPool.TwoByTwo(r1);
        using var c2 = conv2.forward(p1);
        using var r2 = nn.functional.relu(c2);
        using var p2 = MaxPool.TwoByTwo(r2);
        using var flat = p2.flatten(1);
        using var h1 = fc1.forward(flat);
        using var a1 = nn.functional.relu(h1);
        using var h2 = fc2.forward(a1);
        return nn.functional.relu(h2);
    }
}
