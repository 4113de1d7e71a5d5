using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>Weight matrices and data subsets that several measures share.</summary>
static class ModelParts
{
    /// <summary>The weights of the linear and convolutional layers in order (biases and norm layers left out).</summary>
    public static IReadOnlyList<(string Name, Parameter Weight)> WeightMatrices(nn.Module model) =>
        model.named_parameters().Where(np => np.name.EndsWith(".weight", StringComparison.Ordinal) && np.parameter.dim() >= 2)
            .Select(np => (np.name, np.parameter)).ToArray();

    /// <summary>A weight as a matrix: rows are output units, a conv kernel is read as out × (in·kh·kw).</summary>
    public static Tensor AsMatrix(Tensor weight) => weight.reshape(weight.shape[0], -1);

    /// <summary>The initial weight of the same name.</summary>
    public static Tensor InitialOf(MeasureContext c, string name)
    {
        var init = c.Initial!.named_parameters().FirstOrDefault(np => np.name == name).parameter
            ?? throw new BasinException($"the initial weights have no '{name}'; they belong to another architecture");
        return init;
    }

    /// <summary>The first <paramref name="n"/> examples (or all when there are fewer); the caller disposes it.</summary>
    public static LabeledDataset Head(LabeledDataset data, int? n) =>
        n is { } k && k < data.Count ? data.Take(k) : data.Take(data.Count);
}
