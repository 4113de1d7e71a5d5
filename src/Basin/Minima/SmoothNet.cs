using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>
/// A fully connected network with smooth hidden units (sigmoid or tanh) and a linear output, held as one flat float64
/// parameter vector. Layer i (1-based) maps Sizes[i−1] → Sizes[i]; the flat layout is W1 (row-major, PyTorch's
/// [out, in]), b1, W2, b2, …, so it matches an <see cref="Mlp"/>'s fc1.weight, fc1.bias, fc2.weight, … in order.
/// Hidden layers are 1 … Sizes.Count − 2; the last layer is the (linear) output.
/// </summary>
public sealed class SmoothNet
{
    public SmoothNet(IReadOnlyList<int> sizes, Activation activation, double[] theta)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(theta);
        if (sizes.Count < 3) throw new BasinException($"a network needs inputs, at least one hidden layer and outputs, got sizes {string.Join(",", sizes)}");
        if (sizes.Any(s => s < 1)) throw new BasinException($"layer sizes must be positive, got {string.Join(",", sizes)}");
        if (activation == Activation.Relu)
            throw new BasinException("the neuron-split construction needs a smooth activation (sigmoid or tanh); this network uses relu, " +
                "whose second derivative is zero almost everywhere");
        Sizes = sizes.ToArray();
        Activation = activation;
        long count = ParameterCount(Sizes);
        if (theta.Length != count) throw new BasinException($"a network of sizes {string.Join(",", sizes)} has {count} parameters, got {theta.Length}");
        if (theta.Any(t => !double.IsFinite(t))) throw new BasinException("the network's parameters are not all finite");
        Theta = theta;
    }

    public IReadOnlyList<int> Sizes { get; }
    public Activation Activation { get; }
    /// <summary>The flat parameters (W1, b1, W2, b2, …); never modified.</summary>
    public IReadOnlyList<double> Theta { get; }

    /// <summary>Hidden layers (1-based) are 1 … HiddenLayers.</summary>
    public int HiddenLayers => Sizes.Count - 2;
    public int ParameterCount() => Theta.Count;

    public string Describe() => $"{string.Join("→", Sizes)} {Activation.ToString().ToLowerInvariant()}";

    public static long ParameterCount(IReadOnlyList<int> sizes)
    {
        long n = 0;
        for (int i = 1; i < sizes.Count; i++) n += (long)sizes[i] * sizes[i - 1] + sizes[i];
        return n;
    }

    /// <summary>Offset of layer <paramref name="layer"/>'s (1-based) weight matrix in the flat vector; its bias follows it.</summary>
    public int WeightOffset(int layer)
    {
        int off = 0;
        for (int i = 1; i < layer; i++) off += Sizes[i] * Sizes[i - 1] + Sizes[i];
        return off;
    }

    public int BiasOffset(int layer) => WeightOffset(layer) + Sizes[layer] * Sizes[layer - 1];

    /// <summary>Throws the CLI's one-line error unless hidden layer <paramref name="layer"/> has a unit <paramref name="unit"/> (both 1-based).</summary>
    public void CheckUnit(int layer, int unit)
    {
        if (layer < 1 || layer > HiddenLayers)
            throw new BasinException($"hidden layer {layer} does not exist: {Describe()} has hidden layers 1 to {HiddenLayers}");
        if (unit < 1 || unit > Sizes[layer])
            throw new BasinException($"unit {unit} does not exist: hidden layer {layer} of {Describe()} has units 1 to {Sizes[layer]}");
    }

    public SmoothNet With(double[] theta) => new(Sizes, Activation, theta);

    public Tensor ThetaTensor() => torch.tensor(Theta.ToArray(), dtype: float64);

    /// <summary>The outputs [N, K] for inputs [N, Sizes[0]] at the flat parameters <paramref name="theta"/> (differentiable).</summary>
    public Tensor Forward(Tensor theta, Tensor x) => Trace(theta, x, upToLayer: Sizes.Count - 1).Output;

    /// <summary>
    /// The forward pass up to the pre-activations of layer <paramref name="upToLayer"/> (1-based), keeping each hidden layer's
    /// pre-activation and activation; with upToLayer = the last layer the output is the network's.
    /// </summary>
    public ForwardTrace Trace(Tensor theta, Tensor x, int upToLayer)
    {
        if (x.dim() != 2 || x.shape[1] != Sizes[0]) throw new BasinException($"{Describe()} expects inputs [N,{Sizes[0]}], got [{string.Join(",", x.shape)}]");
        var pre = new List<Tensor>();
        var act = new List<Tensor> { x };
        Tensor a = x, z = x;
        for (int i = 1; i <= upToLayer; i++)
        {
            var w = theta.narrow(0, WeightOffset(i), Sizes[i] * Sizes[i - 1]).view(Sizes[i], Sizes[i - 1]);
            var b = theta.narrow(0, BiasOffset(i), Sizes[i]);
            z = a.matmul(w.t()).add(b);
            pre.Add(z);
            if (i == Sizes.Count - 1 || i == upToLayer) break;
            a = Activate(z);
            act.Add(a);
        }
        return new ForwardTrace(pre, act, z);
    }

    /// <summary>The outputs computed from the pre-activations <paramref name="pre"/> of layer <paramref name="layer"/> (1-based) onwards.</summary>
    public Tensor ForwardFrom(Tensor theta, Tensor pre, int layer)
    {
        var z = pre;
        for (int i = layer + 1; i < Sizes.Count; i++)
        {
            var w = theta.narrow(0, WeightOffset(i), Sizes[i] * Sizes[i - 1]).view(Sizes[i], Sizes[i - 1]);
            var b = theta.narrow(0, BiasOffset(i), Sizes[i]);
            z = Activate(z).matmul(w.t()).add(b);
        }
        return z;
    }

    public Tensor Activate(Tensor z) => Activation == Activation.Sigmoid ? torch.sigmoid(z) : torch.tanh(z);

    /// <summary>σ'(z) and σ''(z) of the activation: sigmoid σ(1−σ), σ(1−σ)(1−2σ); tanh 1−t², −2t(1−t²).</summary>
    public (Tensor First, Tensor Second) Derivatives(Tensor z)
    {
        using var s = Activate(z);
        using var one = torch.ones_like(s);
        using var twoScalar = 2.0.ToScalar();
        using var two = torch.full_like(s, twoScalar);
        if (Activation == Activation.Sigmoid)
        {
            var d1 = s.mul(one.sub(s));
            var d2 = d1.mul(one.sub(two.mul(s)));
            return (d1, d2);
        }
        var t1 = one.sub(s.square());
        var t2 = two.neg().mul(s).mul(t1);
        return (t1, t2);
    }

    /// <summary>
    /// The network of an <see cref="Mlp"/> (float64 copy of its weights). A ReLU MLP is refused: the construction needs a
    /// smooth activation.
    /// </summary>
    public static SmoothNet FromMlp(Mlp model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Activation == Activation.Relu)
            throw new BasinException($"the neuron-split construction needs a smooth activation (sigmoid or tanh); {model.Spec} uses relu, " +
                "whose second derivative is zero almost everywhere (train with e.g. --model mlp:3:sigmoid)");
        var sizes = new List<int> { (int)model.InputSize };
        sizes.AddRange(model.HiddenWidths);
        sizes.Add(model.ClassCount);
        var theta = new List<double>();
        using var scope = torch.NewDisposeScope();
        var p = model.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        for (int i = 1; i < sizes.Count; i++)
        {
            theta.AddRange(p[$"fc{i}.weight"].detach().to(float64).contiguous().data<double>().ToArray());
            theta.AddRange(p[$"fc{i}.bias"].detach().to(float64).contiguous().data<double>().ToArray());
        }
        return new SmoothNet(sizes, model.Activation, theta.ToArray());
    }
}

/// <summary>A forward pass: Pre[i−1] the pre-activation of layer i, Activations[i] the activation of hidden layer i (Activations[0] the input).</summary>
public sealed record ForwardTrace(IReadOnlyList<Tensor> Pre, IReadOnlyList<Tensor> Activations, Tensor Output);
