using Basin.Data;
using Basin.Training;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// The output margin (Jiang et al. 2020): for each training example, its true-class logit minus the largest other
/// logit; the margin γ is a low percentile of these (10th by default, linear interpolation between order statistics,
/// as numpy's default), so a few misfit examples do not decide it.
/// </summary>
public static class Margin
{
    public static double Percentile(Classifier model, LabeledDataset data, double percentile = 0.10, int chunkSize = 1000)
    {
        if (!(percentile >= 0 && percentile <= 1)) throw new BasinException($"margin percentile must be in [0, 1], got {percentile}");
        using var scope = torch.NewDisposeScope();
        var logits = Evaluation.Logits(model, data, chunkSize).to_type(ScalarType.Float64);
        var margins = ExampleMargins(logits, data.Labels).data<double>().ToArray();
        return Quantile(margins, percentile);
    }

    /// <summary>z_y − max_{k≠y} z_k per row.</summary>
    public static Tensor ExampleMargins(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        var y = labels.reshape(-1, 1);
        var trueLogit = logits.gather(1, y).squeeze(1);
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        var others = logits.scatter(1, y, torch.full_like(logits, minusInfinity));
        return trueLogit.sub(others.max(1).values).MoveToOuterDisposeScope();
    }

    /// <summary>The q-quantile with linear interpolation between the sorted values at positions q·(n−1).</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) throw new BasinException("a quantile of no values is undefined");
        var sorted = values.OrderBy(v => v).ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>1/γ²; +∞ when the margin is not positive (more than the percentile of examples misclassified).</summary>
    public static double InverseSquared(double margin) => margin > 0 ? 1 / (margin * margin) : double.PositiveInfinity;
}
