using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Robustness;

/// <summary>
/// One sample's geometry at the head z = W h + b ("Understanding Robustness Lottery", Li et al. 2023): the feature length
/// ‖h‖, the true class's weight norm ‖W_y‖, the angles θ_c = arccos(W_c·h / (‖W_c‖‖h‖)) in degrees (true class, predicted
/// class, nearest other class), the logit margin z_y − max_{c≠y} z_c, the geometric margin min_{c≠y} (z_y − z_c)/‖W_y − W_c‖
/// (the distance in feature space to the boundary of the sample's decision region, negative when it is wrong), the
/// angular margin cos θ_y − max_{c≠y} cos θ_c, p_y, the cross-entropy, and the bias share of the runner-up's logit gap.
/// A zero feature (possible in pruned ReLU networks) has NaN angles and is flagged, never given angle 0.
/// </summary>
public sealed record SampleGeometry(int Label, int Prediction, bool Correct, double FeatureNorm, double WeightNormY, double ThetaY,
    double ThetaPred, double ThetaOtherMin, double LogitMargin, double GeometricMargin, double AngularMargin, double ProbabilityY,
    double Loss, bool ZeroFeature, double BiasShare);

/// <summary>The head's decomposition of one logit: z_c = ‖W_c‖ ‖h‖ cos θ_c + b_c (cos θ_c is NaN when h or W_c is 0, and the
/// product term is then 0).</summary>
public readonly record struct LogitParts(double WeightNorm, double FeatureNorm, double Cos, double Bias)
{
    public double Logit => (WeightNorm * FeatureNorm == 0 ? 0 : WeightNorm * FeatureNorm * Cos) + Bias;
}

/// <summary>
/// The per-sample decomposition of a classifier's logits over its penultimate features, computed in float64 from the
/// features the head reads (taken through <see cref="Classifier.Replay"/>, since forward hooks do not fire in Basin's models).
/// </summary>
public static class FeatureGeometry
{
    /// <summary>The penultimate features h (exactly the head's input) and the logits for a batch (tensors in the caller's
    /// dispose scope).</summary>
    public static (Tensor Features, Tensor Logits) Forward(Classifier model, Tensor x)
    {
        if (!model.CanReplay)
        {
            var features = model.Features(x);
            return (features, model.Head.forward(features));
        }
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Tensor? h = null;
        var logits = model.Replay(x, (name, input) =>
        {
            if (name == model.HeadName) h = input;
            return modules.TryGetValue(name, out var m) && m is nn.Module<Tensor, Tensor> layer ? layer.forward(input)
                : throw new BasinException($"model '{model.Spec}' has no layer '{name}'");
        });
        return (h ?? throw new BasinException($"model '{model.Spec}' did not apply its head '{model.HeadName}'"), logits);
    }

    /// <summary>The head's weights W [K, m] and biases b [K] as float64 arrays (row-major W; zeros when the head has no bias).</summary>
    public static (double[] W, double[] B) Head(Classifier model)
    {
        using var w = model.Head.weight!.detach().to(ScalarType.Float64, CPU).contiguous();
        var weights = w.data<double>().ToArray();
        if (model.Head.bias is null) return (weights, new double[w.shape[0]]);
        using var b = model.Head.bias.detach().to(ScalarType.Float64, CPU).contiguous();
        return (weights, b.data<double>().ToArray());
    }

    /// <summary>The parts of every logit of one sample (feature row <paramref name="h"/> of length m; W is K×m).</summary>
    public static LogitParts[] Decompose(ReadOnlySpan<double> h, double[] w, double[] b)
    {
        int m = h.Length, k = b.Length;
        if (w.Length != k * m) throw new BasinException($"the head has {w.Length} weights, not {k}×{m}");
        double hn = Norm(h);
        var parts = new LogitParts[k];
        for (int c = 0; c < k; c++)
        {
            var row = w.AsSpan(c * m, m);
            double wn = Norm(row), dot = 0;
            for (int j = 0; j < m; j++) dot += row[j] * h[j];
            parts[c] = new LogitParts(wn, hn, dot / (wn * hn), b[c]);
        }
        return parts;
    }

    /// <summary>
    /// The geometry of one sample from its feature row, the head and the model's own logits (prediction, margins, p_y and
    /// the loss come from the logits; ties in the prediction go to the lower class index, as argmax does).
    /// </summary>
    public static SampleGeometry Of(ReadOnlySpan<double> h, double[] w, double[] b, ReadOnlySpan<double> logits, int label)
    {
        int k = b.Length, m = h.Length;
        if (logits.Length != k) throw new BasinException($"{logits.Length} logits for a head of {k} classes");
        if (label < 0 || label >= k) throw new BasinException($"label {label} is not a class of a {k}-class head");
        var parts = Decompose(h, w, b);
        int pred = 0;
        for (int c = 1; c < k; c++) if (logits[c] > logits[pred]) pred = c;
        double max = logits[pred], sum = 0;
        for (int c = 0; c < k; c++) sum += Math.Exp(logits[c] - max);
        double logSum = max + Math.Log(sum);
        double logitMargin = double.PositiveInfinity, geo = double.PositiveInfinity, cosOther = double.NegativeInfinity;
        double thetaOther = double.PositiveInfinity;
        int runnerUp = -1;
        for (int c = 0; c < k; c++)
        {
            if (c == label) continue;
            double gap = logits[label] - logits[c];
            if (gap < logitMargin) { logitMargin = gap; runnerUp = c; }
            double dist = 0;
            for (int j = 0; j < m; j++)
            {
                double d = w[label * m + j] - w[c * m + j];
                dist += d * d;
            }
            geo = Math.Min(geo, gap / Math.Sqrt(dist));
            cosOther = Math.Max(cosOther, parts[c].Cos);
            thetaOther = Math.Min(thetaOther, Degrees(parts[c].Cos));
        }
        bool zero = parts[label].FeatureNorm == 0;
        double biasShare = double.NaN;
        if (runnerUp >= 0)
        {
            double geometric = Math.Abs(parts[label].FeatureNorm * (parts[label].WeightNorm * parts[label].Cos
                - parts[runnerUp].WeightNorm * parts[runnerUp].Cos));
            double bias = Math.Abs(b[label] - b[runnerUp]);
            biasShare = bias / (geometric + bias);
        }
        if (zero) { cosOther = double.NaN; thetaOther = double.NaN; }
        return new SampleGeometry(label, pred, pred == label, parts[label].FeatureNorm, parts[label].WeightNorm, Degrees(parts[label].Cos),
            Degrees(parts[pred].Cos), k > 1 ? thetaOther : double.NaN, k > 1 ? logitMargin : double.NaN, k > 1 ? geo : double.NaN,
            k > 1 ? parts[label].Cos - cosOther : double.NaN, Math.Exp(logits[label] - logSum), logSum - logits[label], zero, biasShare);
    }

    /// <summary>The geometry of every sample of a batch: features [N, m] and logits [N, K] (any float dtype), labels [N].</summary>
    public static SampleGeometry[] Of(Tensor features, Tensor logits, Tensor labels, double[] w, double[] b)
    {
        using var hs = features.detach().to(ScalarType.Float64, CPU).contiguous();
        using var zs = logits.detach().to(ScalarType.Float64, CPU).contiguous();
        using var ys = labels.to(ScalarType.Int64, CPU).contiguous();
        var h = hs.data<double>().ToArray();
        var z = zs.data<double>().ToArray();
        var y = ys.data<long>().ToArray();
        int n = y.Length, m = (int)hs.shape[1], k = b.Length;
        var result = new SampleGeometry[n];
        for (int i = 0; i < n; i++) result[i] = Of(h.AsSpan(i * m, m), w, b, z.AsSpan(i * k, k), (int)y[i]);
        return result;
    }

    static double Norm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        return Math.Sqrt(s);
    }

    /// <summary>arccos in degrees, the cosine clamped to [−1, 1] against rounding; NaN stays NaN.</summary>
    static double Degrees(double cos) => double.IsNaN(cos) ? double.NaN : Math.Acos(Math.Clamp(cos, -1, 1)) * 180 / Math.PI;
}
