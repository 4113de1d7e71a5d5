using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>The nonlinearity between the hidden layers of an <see cref="Mlp"/>.</summary>
public enum Activation { Relu, Tanh, Sigmoid }

/// <summary>
/// A fully connected network on the flattened input: fc1 … fcK are the hidden layers, each followed by the
/// activation, and fc(K+1) is the head. For widths 512,512 on 28x28 images: fc1 784→512, fc2 512→512, fc3 512→10.
/// φ(x) is the last hidden layer's output after its activation.
/// </summary>
public sealed class Mlp : Classifier
{
    readonly Linear[] layers;

    public Mlp(long inputSize, IReadOnlyList<int> hiddenWidths, int classCount, Activation activation = Activation.Relu)
        : base(nameof(Mlp))
    {
        if (inputSize < 1) throw new BasinException($"mlp needs a positive input size, got {inputSize}");
        if (hiddenWidths.Count == 0) throw new BasinException("mlp needs at least one hidden width, e.g. mlp:512,512");
        if (hiddenWidths.Any(w => w < 1)) throw new BasinException("mlp hidden widths must be positive, got " +
            $"{string.Join(",", hiddenWidths)}");
        if (classCount < 2) throw new BasinException($"mlp needs at least 2 classes, got {classCount}");
        InputSize = inputSize;
        HiddenWidths = hiddenWidths.ToArray();
        Activation = activation;
        ClassCount = classCount;
        layers = new Linear[hiddenWidths.Count + 1];
        long fanIn = inputSize;
        for (int i = 0; i < layers.Length; i++)
        {
            long fanOut = i < hiddenWidths.Count ? hiddenWidths[i] : classCount;
            layers[i] = nn.Linear(fanIn, fanOut);
            // A variable number of layers cannot be fields, so they are registered by their PyTorch names directly.
            register_module($"fc{i + 1}", layers[i]);
            fanIn = fanOut;
        }
    }

    public long InputSize { get; }
    public IReadOnlyList<int> HiddenWidths { get; }
    public Activation Activation { get; }
    public override int ClassCount { get; }

    public override string Spec => $"mlp:{string.Join(",", HiddenWidths)}:{Activation.ToString().ToLowerInvariant()}";
    public override string HeadName => $"fc{layers.Length}";
    public override Linear Head => layers[^1];

    public override Tensor Features(Tensor input)
    {
        CheckInput(input);
        var x = input.flatten(1);
        for (int i = 0; i < layers.Length - 1; i++)
        {
            using var h = layers[i].forward(x);
            x.Dispose();
            x = Activate(h);
        }
        return x;
    }

    public override bool CanReplay => true;

    public override Tensor Replay(Tensor input, LayerStep step)
    {
        CheckInput(input);
        var h = input.flatten(1);
        for (int i = 0; i < layers.Length - 1; i++) h = Activate(step($"fc{i + 1}", h));
        return step(HeadName, h);
    }

    public override Classifier NewOfSameArchitecture() => new Mlp(InputSize, HiddenWidths, ClassCount, Activation);

    public override bool IsReluNetwork => Activation == Activation.Relu;

    void CheckInput(Tensor input)
    {
        var s = input.shape;
        long perExample = s.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (s.Length < 2 || perExample != InputSize)
            throw new BasinException($"{Spec} expects input [N,...] with {InputSize} values per example, got [{string.Join(",", s)}]");
    }

    Tensor Activate(Tensor h) => Activation switch
    {
        Activation.Relu => nn.functional.relu(h),
        Activation.Tanh => torch.tanh(h),
        Activation.Sigmoid => torch.sigmoid(h),
        _ => throw new InvalidOperationException($"unhandled activation {Activation}"),
    };
}
