using Basin.Data;

namespace Basin.Minima;

/// <summary>The least loss change over random directions of one radius around a point, and how many of them lowered the loss.</summary>
public sealed record ProbeResult(double Lambda, int Directions, double Radius, double MinChange, int Lower);

/// <summary>
/// Random-direction probes around θ(λ): uniform directions on the sphere of radius r, the loss change L(θ + d) − L(θ) for
/// each. At a minimum no direction lowers the loss beyond rounding; at the split saddles random directions almost never find
/// the negative curvature either (it is ~1e-4 against curvatures up to ~1), which is why the escape uses the eigenvector.
/// </summary>
public static class RandomProbes
{
    public static ProbeResult Run(SmoothNet small, FitData data, int layer, int unit, double lambda, int directions, double radius, long seed)
    {
        if (directions < 1) throw new BasinException($"give at least 1 probe direction, got {directions}");
        if (!(radius > 0)) throw new BasinException($"the probe radius must be positive, got {radius}");
        var net = NeuronSplit.Split(small, layer, unit, lambda);
        double start = NetLoss.Loss(net, data);
        var rng = SeededRandom.Create(seed);
        double min = double.PositiveInfinity;
        int lower = 0;
        var d = new double[net.ParameterCount()];
        for (int k = 0; k < directions; k++)
        {
            for (int i = 0; i < d.Length; i++) d[i] = rng.NextGaussian();
            double scale = radius / NetLoss.Norm(d);
            double change = NetLoss.Loss(net.With(net.Theta.Select((t, i) => t + scale * d[i]).ToArray()), data) - start;
            min = Math.Min(min, change);
            if (change < 0) lower++;
        }
        return new ProbeResult(lambda, directions, radius, min, lower);
    }
}
