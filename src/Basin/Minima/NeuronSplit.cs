namespace Basin.Minima;

/// <summary>
/// The neuron-split construction (Fukumizu &amp; Amari 2000; Petzka &amp; Sminchisescu, "Non-attracting regions of local minima
/// in deep and wide neural networks"): unit r of hidden layer l is duplicated (same incoming weights and bias) and its
/// outgoing column v is split into λv (unit r) and (1−λ)v (the copy, inserted right after r). The network function is the
/// same for every λ. Layers and units are 1-based; directions are flat vectors in the split network's layout.
/// </summary>
public static class NeuronSplit
{
    /// <summary>The split network θ(λ).</summary>
    public static SmoothNet Split(SmoothNet net, int layer, int unit, double lambda)
    {
        ArgumentNullException.ThrowIfNull(net);
        net.CheckUnit(layer, unit);
        if (!double.IsFinite(lambda)) throw new BasinException($"λ must be finite, got {lambda}");
        int r = unit - 1;
        var sizes = net.Sizes.ToArray();
        sizes[layer]++;
        var theta = new List<double>(net.ParameterCount() + sizes[layer - 1] + 1 + sizes[layer + 1]);
        var old = net.Theta;
        for (int i = 1; i < net.Sizes.Count; i++)
        {
            int rows = net.Sizes[i], cols = net.Sizes[i - 1];
            int w = net.WeightOffset(i), b = net.BiasOffset(i);
            if (i == layer)
            {
                for (int row = 0; row < rows; row++)
                {
                    for (int c = 0; c < cols; c++) theta.Add(old[w + row * cols + c]);
                    if (row == r) for (int c = 0; c < cols; c++) theta.Add(old[w + row * cols + c]);
                }
                for (int row = 0; row < rows; row++)
                {
                    theta.Add(old[b + row]);
                    if (row == r) theta.Add(old[b + row]);
                }
            }
            else if (i == layer + 1)
            {
                for (int row = 0; row < rows; row++)
                    for (int c = 0; c < cols; c++)
                    {
                        double v = old[w + row * cols + c];
                        if (c == r) { theta.Add(lambda * v); theta.Add((1 - lambda) * v); }
                        else theta.Add(v);
                    }
                for (int row = 0; row < rows; row++) theta.Add(old[b + row]);
            }
            else
            {
                for (int k = w; k < b + rows; k++) theta.Add(old[k]);
            }
        }
        return new SmoothNet(sizes, net.Activation, theta.ToArray());
    }

    /// <summary>The incoming weights and bias u* = [W_l row r; b_r] of the unit in the small network.</summary>
    public static double[] Incoming(SmoothNet net, int layer, int unit)
    {
        net.CheckUnit(layer, unit);
        int cols = net.Sizes[layer - 1];
        var u = new double[cols + 1];
        for (int c = 0; c < cols; c++) u[c] = net.Theta[net.WeightOffset(layer) + (unit - 1) * cols + c];
        u[cols] = net.Theta[net.BiasOffset(layer) + unit - 1];
        return u;
    }

    /// <summary>The outgoing column v* (the unit's weights into layer l+1) of the small network.</summary>
    public static double[] Outgoing(SmoothNet net, int layer, int unit)
    {
        net.CheckUnit(layer, unit);
        int rows = net.Sizes[layer + 1], cols = net.Sizes[layer];
        var v = new double[rows];
        for (int row = 0; row < rows; row++) v[row] = net.Theta[net.WeightOffset(layer + 1) + row * cols + unit - 1];
        return v;
    }

    /// <summary>
    /// A direction of the split network (of the small network <paramref name="small"/> split at layer, unit) that moves the
    /// incoming weights of unit r by <paramref name="du"/>, of its copy by <paramref name="duCopy"/>, the outgoing column of r
    /// by <paramref name="dv"/> and of the copy by <paramref name="dvCopy"/> (null: zero).
    /// </summary>
    public static double[] Direction(SmoothNet small, int layer, int unit, double[]? du, double[]? duCopy, double[]? dv, double[]? dvCopy)
    {
        small.CheckUnit(layer, unit);
        var split = Split(small, layer, unit, 0.5);
        var d = new double[split.ParameterCount()];
        int r = unit - 1, cols = split.Sizes[layer - 1], width = split.Sizes[layer];
        void In(double[]? x, int row)
        {
            if (x is null) return;
            if (x.Length != cols + 1)
                throw new BasinException($"an incoming direction needs {cols + 1} entries (weights and bias), got {x.Length}");
            for (int c = 0; c < cols; c++) d[split.WeightOffset(layer) + row * cols + c] = x[c];
            d[split.BiasOffset(layer) + row] = x[cols];
        }
        void Out(double[]? x, int col)
        {
            if (x is null) return;
            if (x.Length != split.Sizes[layer + 1])
                throw new BasinException($"an outgoing direction needs {split.Sizes[layer + 1]} entries, got {x.Length}");
            for (int row = 0; row < x.Length; row++) d[split.WeightOffset(layer + 1) + row * width + col] = x[row];
        }
        In(du, r);
        In(duCopy, r + 1);
        Out(dv, r);
        Out(dvCopy, r + 1);
        return d;
    }

    /// <summary>The split direction D_u = ((1−λ)u, −λu) on the two incoming vectors: curvature λ(1−λ)uᵀBu.</summary>
    public static double[] SplitDirection(SmoothNet small, int layer, int unit, double lambda, double[] u) =>
        Direction(small, layer, unit, u.Select(x => (1 - lambda) * x).ToArray(), u.Select(x => -lambda * x).ToArray(), null, null);

    /// <summary>The transfer direction (η, −η) on the two outgoing columns: the loss is exactly constant along it.</summary>
    public static double[] TransferDirection(SmoothNet small, int layer, int unit, double[] eta) =>
        Direction(small, layer, unit, null, null, eta, eta.Select(x => -x).ToArray());

    /// <summary>dθ(λ)/dλ = (v*, −v*) on the two outgoing columns: the line of critical points.</summary>
    public static double[] LineDirection(SmoothNet small, int layer, int unit)
    {
        var v = Outgoing(small, layer, unit);
        return TransferDirection(small, layer, unit, v);
    }
}
