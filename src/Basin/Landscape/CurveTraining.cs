using Basin.Data;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>
/// How the control point of a <see cref="Curve"/> is trained: SGD with momentum on E_{t~U(0,1)}[CE(θ(t)) + ½·wd·‖θ(t)‖²], t drawn
/// once per mini-batch, the reference schedule (learning-rate factor 1 for the first half of the epochs, then linearly down to 0.01 at
/// 90 %, then 0.01). Each setting is checked when it is set, so a record that exists is a valid one.
/// </summary>
public sealed record CurveTrainingOptions
{
    public int Epochs
    {
        get;
        init => field = value >= 1 ? value : throw new BasinException($"--epochs must be at least 1, got {value}");
    } = 10;
    public int BatchSize
    {
        get;
        init => field = value >= 1 ? value : throw new BasinException($"batch size must be at least 1, got {value}");
    } = 128;
    public double LearningRate
    {
        get;
        init => field = value > 0 && double.IsFinite(value) ? value
            : throw new BasinException($"--lr must be a positive number, got {value}");
    } = 0.05;
    public double Momentum
    {
        get;
        init => field = value >= 0 && value < 1 ? value : throw new BasinException($"momentum must be in [0, 1), got {value}");
    } = 0.9;
    /// <summary>L2 on the curve point θ(t) (not on θ_C); 0 by default.</summary>
    public double WeightDecay
    {
        get;
        init => field = value >= 0 && double.IsFinite(value) ? value
            : throw new BasinException($"weight decay must be ≥ 0, got {value}");
    }
    public long Seed { get; init; }

    /// <summary>The reference's learning-rate factor at the start of epoch <paramref name="epoch"/> (0-based) of
    /// <paramref name="epochs"/>.</summary>
    public static double ScheduleFactor(int epoch, int epochs)
    {
        double alpha = (double)epoch / epochs;
        return alpha <= 0.5 ? 1 : alpha <= 0.9 ? 1 - (alpha - 0.5) / 0.4 * 0.99 : 0.01;
    }
}

/// <summary>The mean training objective of each epoch of curve training.</summary>
public sealed record CurveEpoch(int Epoch, double LearningRate, double MeanLoss);

public static class CurveTraining
{
    /// <summary>
    /// Trains <paramref name="curve"/>'s control point on <paramref name="data"/>, using <paramref name="model"/> (same architecture) as
    /// the place where θ(t) is evaluated; the model's weights are left at θ(½). Only θ_C changes: ∂/∂θ_C = c_C(t)·∇_θ
    /// objective at θ(t).
    /// </summary>
    public static IReadOnlyList<CurveEpoch> Train(Curve curve, nn.Module<Tensor, Tensor> model, LabeledDataset data,
        CurveTrainingOptions options, IProgress<CurveEpoch>? progress = null, CancellationToken cancellationToken = default)
    {
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples to train the curve on");
        var parameters = model.parameters().ToArray();
        if (parameters.Length != curve.Control.Length
            || parameters.Zip(curve.Control).Any(p => !p.First.shape.SequenceEqual(p.Second.shape)))
            throw new BasinException("the model does not have the curve's architecture");
        var dtype = parameters[0].dtype;
        var random = new Random(unchecked((int)options.Seed));
        using var generator = new torch.Generator(unchecked((ulong)options.Seed));
        var velocity = curve.Control.Select(c => torch.zeros_like(c)).ToArray();
        using var momentum = options.Momentum.ToScalar();
        using var halfWd = (0.5 * options.WeightDecay).ToScalar();
        var epochs = new List<CurveEpoch>();
        bool wasTraining = model.training;
        model.train();
        try
        {
            for (int e = 0; e < options.Epochs; e++)
            {
                double lr = options.LearningRate * CurveTrainingOptions.ScheduleFactor(e, options.Epochs);
                using var step = (-lr).ToScalar();
                using var order = torch.randperm(data.Count, generator: generator);
                double lossSum = 0;
                int batches = 0;
                foreach (var (start, size) in Chunking.Ranges(data.Count, options.BatchSize))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    double t = random.NextDouble();
                    curve.WriteAt(t, parameters);
                    foreach (var p in parameters) p.grad?.zero_();
                    var idx = order.narrow(0, start, size);
                    var x = data.Inputs.index_select(0, idx).to_type(dtype);
                    var y = data.Labels.index_select(0, idx);
                    var loss = nn.functional.cross_entropy(model.forward(x), y);
                    lossSum += loss.ToDouble();
                    if (options.WeightDecay > 0)
                        loss = loss.add(torch.stack(parameters.Select(p => p.pow(Scalars.Two).sum()).ToArray()).sum().mul(halfWd),
                            Scalars.One);
                    loss.backward();
                    using var cc = Curve.Coefficients(curve.Kind, t).C.ToScalar();
                    using var noGrad = torch.no_grad();
                    for (int p = 0; p < parameters.Length; p++)
                    {
                        var g = parameters[p].grad;
                        if (g is null) continue;
                        velocity[p].mul_(momentum).add_(g, cc);
                        curve.Control[p].add_(velocity[p], step);
                    }
                    batches++;
                }
                var epoch = new CurveEpoch(e + 1, lr, lossSum / batches);
                epochs.Add(epoch);
                progress?.Report(epoch);
            }
        }
        finally
        {
            foreach (var v in velocity) v.Dispose();
            foreach (var p in parameters) p.grad?.zero_();
            curve.WriteAt(0.5, parameters);
            model.train(wasTraining);
        }
        return epochs;
    }

    /// <summary>Loss and accuracy of θ(t) on <paramref name="data"/> at each t in [0, 1] (which must include 0 and 1), with the
    /// barrier.</summary>
    public static PathProfile Profile(Curve curve, nn.Module<Tensor, Tensor> model, LabeledDataset data, IReadOnlyList<double> ts,
        int chunkSize = 1000, IProgress<SliceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        var parameters = model.parameters().Cast<Tensor>().ToArray();
        var point = parameters.Select(p => torch.empty_like(p)).ToArray();
        using var surface = new LossSurface(model, data, chunkSize);
        var loss = new double[ts.Count];
        var accuracy = new double[ts.Count];
        for (int i = 0; i < ts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            curve.WriteAt(ts[i], point);
            var r = surface.AtWeights(point);
            (loss[i], accuracy[i]) = (r.Loss, r.Accuracy);
            progress?.Report(new SliceProgress(i + 1, ts.Count));
        }
        return new PathProfile(ts.ToArray(), loss, accuracy, LossBarrier.Of(ts, loss));
    }
}
