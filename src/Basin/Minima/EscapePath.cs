namespace Basin.Minima;

/// <summary>Options of <see cref="EscapePath"/>; each is checked when it is set, so a record that exists is a valid one.</summary>
public sealed record EscapeOptions
{
    /// <summary>The split point to start from, normally a minimum λ ∈ (0, 1).</summary>
    public double From
    {
        get;
        init => field = double.IsFinite(value) ? value : throw new BasinException($"λ values must be finite, got {value}");
    } = 0.5;
    /// <summary>The point of the line to walk to, a saddle outside [0, 1].</summary>
    public double To
    {
        get;
        init => field = !double.IsFinite(value) ? throw new BasinException($"λ values must be finite, got {value}")
            : SplitClassification.IsBoundary(value) ? throw new BasinException($"the escape cannot start at the boundary λ = {value}")
            : value;
    } = 1.5;
    /// <summary>Recorded points of the walk along the line (constant loss), endpoints included.</summary>
    public int WalkPoints
    {
        get;
        init => field = value >= 2 ? value : throw new BasinException($"the walk needs at least 2 points, got {value}");
    } = 11;
    /// <summary>The first length of the step along the most negative eigenvector; halved until the loss falls.</summary>
    public double EscapeStep
    {
        get;
        init => field = value > 0 ? value : throw new BasinException($"the escape step must be positive, got {value}");
    } = 0.05;
    /// <summary>The most descent steps after the escape step.</summary>
    public int MaxDescentSteps
    {
        get;
        init => field = value >= 0 ? value : throw new BasinException($"descent steps must be ≥ 0, got {value}");
    } = 5000;
    /// <summary>Descent stops when ‖∇L‖ ≤ this.</summary>
    public double GradientTolerance
    {
        get;
        init => field = value > 0 ? value : throw new BasinException($"the gradient tolerance must be positive, got {value}");
    } = 1e-10;
    /// <summary>Armijo's sufficient-decrease constant.</summary>
    public double Armijo
    {
        get;
        init => field = value > 0 && value < 0.5 ? value : throw new BasinException($"Armijo's constant must lie in (0, 0.5), got {value}");
    } = 1e-4;
    /// <summary>Curvature pairs kept by L-BFGS.</summary>
    public int Memory
    {
        get;
        init => field = value >= 1 ? value : throw new BasinException($"L-BFGS needs a memory of at least 1, got {value}");
    } = 10;
}

/// <summary>The phase of a recorded escape point.</summary>
public enum EscapePhase { Line, Escape, Descent }

/// <summary>One recorded point: its phase, its λ (line points only) and its loss.</summary>
public sealed record EscapePoint(int Index, EscapePhase Phase, double? Lambda, double Loss);

/// <summary>
/// The escape from a split minimum. StartLoss is L* (the loss at θ(From)); EscapeEigenvalue the most negative eigenvalue at
/// θ(To); MaxIncrease the largest rise between consecutive recorded losses (rounding only on the line, where the loss is
/// exactly constant; the escape and descent steps strictly decrease it). The end point's gradient, smallest Hessian eigenvalue and
/// largest |parameter| say where it stopped (sigmoid networks often descend towards minima at infinity).
/// </summary>
public sealed record EscapeResult(string Network, int Layer, int Unit, double From, double To, double StartLoss, double EscapeEigenvalue,
    double EscapeStep, double EndLoss, double EndGradientNorm, int DescentSteps, double EndSmallestEigenvalue, double EndMaxAbsParameter,
        double MaxIncrease,
    IReadOnlyList<EscapePoint> Points);

/// <summary>
/// The non-increasing path out of the split minimum (Petzka &amp; Sminchisescu, "Non-attracting regions of local minima in deep
/// and wide neural networks"): walk the line θ(λ) from From to To (constant loss), step along the eigenvector of the most
/// negative Hessian eigenvalue at θ(To) with the sign that lowers the loss (random directions do not find it), then descend
/// with L-BFGS directions and a backtracking Armijo line search, so every step lowers the loss (a fixed step can go uphill).
/// </summary>
public static class EscapePath
{
    public static EscapeResult Run(SmoothNet small, FitData data, int layer, int unit, EscapeOptions? options = null,
        IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(small);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new EscapeOptions();
        small.CheckUnit(layer, unit);
        var points = new List<EscapePoint>();
        void Record(EscapePhase phase, double? lambda, double loss) => points.Add(new EscapePoint(points.Count, phase, lambda, loss));
        for (int i = 0; i < options.WalkPoints; i++)
        {
            double lambda = options.From + (options.To - options.From) * i / (options.WalkPoints - 1);
            if (i == options.WalkPoints - 1) lambda = options.To;
            Record(EscapePhase.Line, lambda, NetLoss.Loss(NeuronSplit.Split(small, layer, unit, lambda), data));
        }
        double startLoss = points[0].Loss;
        var net = NeuronSplit.Split(small, layer, unit, options.To);
        progress?.Report($"Hessian at λ = {options.To:G4}");
        var eigen = SymmetricEigen.Of(NetLoss.Hessian(net, data));
        if (!(eigen.Smallest < -1e-10 * eigen.Scale))
            throw new BasinException($"no negative curvature at λ = {options.To:G4} (smallest Hessian eigenvalue {eigen.Smallest:E3}): " +
                "the escape needs a saddle there, i.e. B ≻ 0 and M = 0 (classify the line first)");
        double loss = points[^1].Loss;
        var q = eigen.Vectors[0];
        double step = options.EscapeStep;
        SmoothNet? escaped = null;
        double escapedLoss = loss;
        for (int k = 0; k < 60 && escaped is null; k++, step *= 0.5)
            foreach (var sign in new[] { 1.0, -1.0 })
            {
                var trial = Move(net, q, sign * step);
                double l = NetLoss.Loss(trial, data);
                if (l < escapedLoss) (escaped, escapedLoss) = (trial, l);
            }
        if (escaped is null)
            throw new BasinException($"no step along the most negative eigenvector at λ = {options.To:G4} lowers the loss");
        step *= 2;
        net = escaped;
        Record(EscapePhase.Escape, null, escapedLoss);
        var (endNet, endLoss, g, steps) = Descend(net, data, options, (l) => Record(EscapePhase.Descent, null, l), progress, ct);
        double maxIncrease = 0;
        for (int i = 1; i < points.Count; i++) maxIncrease = Math.Max(maxIncrease, points[i].Loss - points[i - 1].Loss);
        double endSmallest = SymmetricEigen.Of(NetLoss.Hessian(endNet, data)).Smallest;
        return new EscapeResult(small.Describe(), layer, unit, options.From, options.To, startLoss, eigen.Smallest, step, endLoss,
            NetLoss.Norm(g), steps, endSmallest, endNet.Theta.Max(Math.Abs), maxIncrease, points);
    }

    static SmoothNet Move(SmoothNet net, IReadOnlyList<double> direction, double t) =>
        net.With(net.Theta.Select((x, i) => x + t * direction[i]).ToArray());

    /// <summary>L-BFGS directions (steepest descent when a direction is not a descent one) with backtracking Armijo steps.</summary>
    static (SmoothNet Net, double Loss, double[] Gradient, int Steps) Descend(SmoothNet net, FitData data, EscapeOptions options,
        Action<double> record, IProgress<string>? progress, CancellationToken ct)
    {
        var (loss, g) = NetLoss.LossAndGradient(net, data);
        var history = new LinkedList<(double[] S, double[] Y, double Rho)>();
        double steepestStep = 1;
        int steps = 0;
        for (; steps < options.MaxDescentSteps && NetLoss.Norm(g) > options.GradientTolerance; steps++)
        {
            ct.ThrowIfCancellationRequested();
            var d = Direction(g, history);
            double slope = NewtonSolver.Dot(g, d);
            bool steepest = false;
            if (!(slope < 0))
            {
                history.Clear();
                d = g.Select(x => -x).ToArray();
                slope = NewtonSolver.Dot(g, d);
                steepest = true;
            }
            else if (history.Count == 0) steepest = true;
            // L-BFGS steps start at 1; steepest-descent steps start at twice the last accepted one, so they can grow.
            double alpha = steepest ? steepestStep * 2 : 1;
            SmoothNet? next = null;
            double nextLoss = loss;
            for (int k = 0; k < 80; k++, alpha *= 0.5)
            {
                var trial = Move(net, d, alpha);
                double l = NetLoss.Loss(trial, data);
                if (double.IsFinite(l) && l <= loss + options.Armijo * alpha * slope && l < loss) { (next, nextLoss) = (trial, l); break; }
            }
            if (next is null) break;
            if (steepest) steepestStep = alpha;
            var (_, g2) = NetLoss.LossAndGradient(next, data);
            var s = next.Theta.Select((x, i) => x - net.Theta[i]).ToArray();
            var y = g2.Select((x, i) => x - g[i]).ToArray();
            double sy = NewtonSolver.Dot(s, y);
            if (sy > 1e-12 * NetLoss.Norm(s) * NetLoss.Norm(y))
            {
                history.AddLast((s, y, 1 / sy));
                if (history.Count > options.Memory) history.RemoveFirst();
            }
            net = next;
            loss = nextLoss;
            g = g2;
            record(loss);
            if (steps % 100 == 0) progress?.Report($"descent step {steps}: loss {loss:G6}");
        }
        return (net, loss, g, steps);
    }

    /// <summary>The L-BFGS two-loop recursion: −H_k g with the initial scaling sᵀy/yᵀy.</summary>
    static double[] Direction(double[] g, LinkedList<(double[] S, double[] Y, double Rho)> history)
    {
        var q = (double[])g.Clone();
        var alphas = new Stack<double>();
        for (var node = history.Last; node is not null; node = node.Previous)
        {
            var (s, y, rho) = node.Value;
            double a = rho * NewtonSolver.Dot(s, q);
            alphas.Push(a);
            for (int i = 0; i < q.Length; i++) q[i] -= a * y[i];
        }
        if (history.Last is { } last)
        {
            double gamma = NewtonSolver.Dot(last.Value.S, last.Value.Y) / NewtonSolver.Dot(last.Value.Y, last.Value.Y);
            for (int i = 0; i < q.Length; i++) q[i] *= gamma;
        }
        for (var node = history.First; node is not null; node = node.Next)
        {
            var (s, y, rho) = node.Value;
            double b = rho * NewtonSolver.Dot(y, q);
            double a = alphas.Pop();
            for (int i = 0; i < q.Length; i++) q[i] += (a - b) * s[i];
        }
        return q.Select(x => -x).ToArray();
    }
}
