using Basin.IO;
using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>A data set stored as safetensors: "input" [N,...] (floating point) and "labels" [N] (integer).</summary>
public static class TensorFile
{
    /// <summary>
    /// Reads the file. The class count is <paramref name="classCount"/> when given (e.g. a model's head rows, so labels
    /// need not use every class), else the largest label + 1.
    /// </summary>
    public static LabeledDataset Load(string path, int? classCount = null)
    {
        if (!File.Exists(path)) throw new BasinException($"tensors file not found: {path}");
        using var file = SafeTensors.Load(path);
        if (!file.Tensors.TryGetValue("input", out var input))
            throw new BasinException($"{path} has no tensor named 'input' (found: {string.Join(", ", file.Tensors.Keys)})");
        if (!file.Tensors.TryGetValue("labels", out var labels))
            throw new BasinException($"{path} has no tensor named 'labels' (int64 [N], one class per example)");
        if (!input.is_floating_point()) throw new BasinException($"{path}: 'input' has dtype {input.dtype}; it must be floating point");
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new BasinException($"{path}: 'labels' has dtype {labels.dtype}; it must be an integer type");
        if (input.dim() < 2 || labels.dim() != 1 || labels.shape[0] != input.shape[0])
            throw new BasinException($"{path}: 'input' must be [N,...] and 'labels' [N], got [{string.Join(",", input.shape)}] and " +
                $"[{string.Join(",", labels.shape)}]");
        if (input.shape[0] == 0) throw new BasinException($"{path}: no examples");
        using var x = input.to_type(ScalarType.Float32);
        using var finite = x.isfinite().all();
        if (!finite.item<bool>()) throw new BasinException($"{path}: 'input' holds NaN or infinite values");
        using var y = labels.to_type(ScalarType.Int64);
        using var yMin = y.min();
        using var yMax = y.max();
        long min = yMin.item<long>(), max = yMax.item<long>();
        if (min < 0) throw new BasinException($"{path}: labels must be class indices 0, 1, ..., got {min}");
        int classes = classCount ?? checked((int)max + 1);
        if (max >= classes) throw new BasinException($"{path}: label {max} is not a class of a model with {classes} classes");
        return new LabeledDataset(Path.GetFileName(path), x.clone(), y.clone(), classes);
    }
}
