using Basin.Experiments;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.IO;

/// <summary>
/// Saves and loads a model's state_dict (parameters and buffers, e.g. BatchNorm running statistics) as
/// safetensors under PyTorch names, so weights move between Basin and PyTorch unchanged.
/// </summary>
public static class Weights
{
    const int MaxProblemsListed = 5;

    /// <summary>Writes every parameter and buffer of <paramref name="model"/> in state_dict order, atomically.</summary>
    public static void Save(nn.Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Save(path, model.state_dict(), metadata);
    }

    /// <summary>
    /// Copies the tensors of a safetensors file into <paramref name="model"/>, converting floating dtypes as needed.
    /// Everything is checked before anything is copied, so on failure the model is left as it was.
    /// With <paramref name="strict"/> false, missing and unexpected names are tolerated (shapes must still fit,
    /// and at least one name must match).
    /// </summary>
    /// <exception cref="DataFormatException">The file is malformed or does not fit the model; the message lists the problems.</exception>
    public static void Load(nn.Module model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var file = SafeTensors.Load(path);
        CopyInto(model, file.Tensors, Path.GetFileName(path), strict);
    }

    /// <summary>
    /// The one checked copy of saved tensors into a module's state (weights files, training and GAN checkpoints): every name,
    /// shape and dtype is checked before anything is copied, so on failure the module is left as it was. Floating dtypes
    /// convert unless <paramref name="exactDtypes"/> (a resumed run must continue bit for bit). <paramref name="source"/> names
    /// the file in the message; <paramref name="modelName"/> the module (default: a classifier's spec or the module's name).
    /// </summary>
    /// <exception cref="DataFormatException">The tensors do not fit the module; the message lists the problems.</exception>
    public static void CopyInto(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source, bool strict = true,
        bool exactDtypes = false, string? modelName = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        var target = model.state_dict();
        var problems = new List<string>();
        if (strict)
        {
            problems.AddRange(target.Keys.Where(n => !tensors.ContainsKey(n)).Select(n => $"missing {n}"));
            problems.AddRange(tensors.Keys.Where(n => !target.ContainsKey(n)).Select(n => $"unexpected {n}"));
        }
        var common = target.Keys.Where(tensors.ContainsKey).ToList();
        foreach (var name in common)
        {
            Tensor have = tensors[name], want = target[name];
            if (!have.shape.SequenceEqual(want.shape))
                problems.Add($"{name} has shape {Show(have.shape)}, model expects {Show(want.shape)}");
            else if (exactDtypes ? have.dtype != want.dtype : !Convertible(have.dtype, want.dtype))
                problems.Add($"{name} has dtype {have.dtype}, model expects {want.dtype}");
        }
        if (common.Count == 0 && problems.Count == 0)
            problems.Add("no tensor name in common");
        if (problems.Count > 0)
        {
            var listed = string.Join("; ", problems.Take(MaxProblemsListed));
            var more = problems.Count > MaxProblemsListed ? $"; and {problems.Count - MaxProblemsListed} more" : "";
            throw new DataFormatException($"{source} does not fit {modelName ?? "model " + Describe(model)}: {listed}{more}");
        }
        using (torch.no_grad())
        {
            foreach (var name in common) target[name].copy_(tensors[name]);
        }
    }

    static bool Convertible(ScalarType from, ScalarType to) =>
        from == to
        || (torch.is_floating_point(from) && torch.is_floating_point(to))
        || (IsInteger(from) && IsInteger(to));

    static bool IsInteger(ScalarType t) =>
        t is ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 or ScalarType.Byte;

    static string Describe(nn.Module model) => model is Classifier c ? c.Spec : model.GetName();

    static string Show(long[] shape) => $"[{string.Join(",", shape)}]";
}
