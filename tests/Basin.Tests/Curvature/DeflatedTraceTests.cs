using Basin.Curvature;
using Basin.Flatness;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

/// <summary>Hutchinson's trace after deflation by a Lanczos sketch, against exact traces.</summary>
public class DeflatedTraceTests
{
    /// <summary>A dense symmetric float64 matrix as a curvature operator on vectors of one tensor.</summary>
    sealed class MatrixOperator(Tensor matrix) : ICurvatureProduct
    {
        public IReadOnlyList<long[]> Shapes { get; } = [[matrix.shape[0]]];
        public ScalarType DType => ScalarType.Float64;
        public long Dimension => matrix.shape[0];
        public long ProductCount { get; private set; }

        public Tensor[] Apply(IReadOnlyList<Tensor> v)
        {
            ProductCount++;
            return [matrix.mv(v[0])];
        }
    }

    /// <summary>Q·diag(values)·Qᵀ with a random orthogonal Q (seeded).</summary>
    static Tensor Rotated(double[] values, long seed)
    {
        using var g = new torch.Generator((ulong)seed);
        var (q, _) = torch.linalg.qr(torch.randn(values.Length, values.Length, dtype: ScalarType.Float64, generator: g));
        return q.matmul(torch.diag(torch.tensor(values, dtype: ScalarType.Float64))).matmul(q.T);
    }

    [Fact]
    public void ASketchThatHoldsTheRangeOfALowRankMatrixGivesItsTraceExactly()
    {
        using var scope = torch.NewDisposeScope();
        // Rank 2: the Krylov space of 3 steps, span{v, Hv, H²v}, holds H's range, so (I − QQᵀ)H(I − QQᵀ) = 0 and every
        // probe adds exactly 0: the estimate is the sketch's Σ α_j = Tr H = 8 with no spread.
        var op = new MatrixOperator(Rotated([5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], seed: 4));
        var e = HessianTrace.Deflated(op, sketchSteps: 3, minProbes: 5, maxProbes: 5, seed: 2);
        Assert.Equal(8, e.Mean, 10);
        Assert.True(e.StandardError < 1e-10, $"SE {e.StandardError}");
        Assert.Equal((5, 3 + 5L), (e.Samples, e.Products));

        // A sketch as large as the space: exact, and no probe is drawn.
        var full = HessianTrace.Deflated(new MatrixOperator(Rotated([4, -1, 2.5, 0.5], seed: 9)), sketchSteps: 10, seed: 1);
        Assert.Equal(6, full.Mean, 12);
        Assert.Equal((0, 0.0, 4L), (full.Samples, full.StandardError, full.Products));
    }

    [Fact]
    public void OnANetworksHessianItIsUnbiasedAndSpreadsLessThanHutchinsonForTheSameProducts()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, "fc2", "fc3"));
        double exact = HessianTrace.Exact(hvp);
        // 60 products each: 60 plain probes, or a 10-step sketch and 50 deflated probes.
        var plain = HessianTrace.Hutchinson(hvp, relativeStandardError: 0, minProbes: 60, maxProbes: 60, seed: 11);
        var deflated = HessianTrace.Deflated(hvp, sketchSteps: 10, relativeStandardError: 0, minProbes: 50, maxProbes: 50, seed: 11);
        Assert.Equal(60, plain.Products);
        Assert.Equal(60, deflated.Products);
        Assert.True(Math.Abs(deflated.Mean - exact) <= 3 * deflated.StandardError, $"{deflated} vs exact {exact}");
        Assert.True(deflated.StandardError < 0.75 * plain.StandardError, $"deflated SE {deflated.StandardError}, plain {plain.StandardError}");
        // The stopping rule: an absolute standard error reached stops the probes.
        var stopped = HessianTrace.Deflated(hvp, 10, relativeStandardError: 0, minProbes: 3, maxProbes: 500, seed: 11,
            absoluteStandardError: 2 * deflated.StandardError);
        Assert.True(stopped.StandardError <= 2 * deflated.StandardError && stopped.Samples < 50, stopped.ToString());
    }

    [Fact]
    public void ThePolicyDeflatesWhenASketchIsAskedFor()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp();
        using var data = ToyData();
        var set = ParameterSet.Select(model, "fc2", "fc3");
        var options = new EstimateOptions { ForceHutchinson = true, TraceSketch = 10, RelativeStandardError = 0.02, MaxProbes = 400 };
        var t = CurvatureEstimates.Trace(model, data, set, options);
        using var hvp = new HessianVectorProduct(model, data, set);
        Assert.Equal(TraceResult.DeflatedHutchinson, t.Method);
        Assert.Equal(10 + t.Probes, t.Products);
        Assert.True(Math.Abs(t.Value - HessianTrace.Exact(hvp)) <= 3 * t.StandardError, t.ToString());
        Assert.Equal(TraceResult.Hutchinson, CurvatureEstimates.Trace(model, data, set, options with { TraceSketch = 0 }).Method);
    }

    [Fact]
    public void ASketchWithoutStepsIsRefused() =>
        Assert.Equal("the trace's sketch needs at least 1 Lanczos step, got 0", Assert.Throws<BasinException>(() =>
            HessianTrace.Deflated(new MatrixOperator(torch.eye(3, dtype: ScalarType.Float64)), sketchSteps: 0)).Message);
}
