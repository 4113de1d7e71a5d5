using Basin.Gan;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class LatentPathsTests
{
    static Tensor Vec(params double[] v) => tensor(v, ScalarType.Float64);

    // G(z) = (z₀, z₁, 2·exp(−‖z‖²)): a bump over the origin that a straight path has to climb.
    static Tensor Bump(Tensor z) => torch.cat(new[] { z, 2 * torch.exp(-z.square().sum(new long[] { 1 }, keepdim: true)) }, 1);

    [Fact]
    public void LinearAndSphericalPathsHaveExactEndpoints()
    {
        using var z0 = randn(5, generator: new TorchSharp.torch.Generator(1));
        using var z1 = randn(5, generator: new TorchSharp.torch.Generator(2));
        foreach (var path in new[] { LatentPaths.Linear(z0, z1, 7), LatentPaths.Spherical(z0, z1, 7) })
        {
            using (path)
            {
                Assert.Equal(new long[] { 8, 5 }, path.shape);
                Assert.Equal(z0.data<float>().ToArray(), path[0].data<float>().ToArray());
                Assert.Equal(z1.data<float>().ToArray(), path[7].data<float>().ToArray());
            }
        }
        using var line = LatentPaths.Linear(z0, z1, 4);
        using var mid = (z0 + z1) / 2;
        Assert.Equal(mid.data<float>().ToArray(), line[2].data<float>().ToArray());
    }

    [Fact]
    public void SlerpKeepsTheNormOfEqualNormCodesAndFollowsTheArc()
    {
        using var z0 = Vec(3, 0, 0);
        using var z1 = Vec(0, 0, 3);
        using var path = LatentPaths.Spherical(z0, z1, 8);
        using var norms = path.norm(1);
        Assert.All(norms.data<double>().ToArray(), n => Assert.Equal(3.0, n, 12));
        // The midpoint of a quarter arc is at 45°; the linear midpoint is shorter by √2.
        Assert.Equal(new[] { 3 / Math.Sqrt(2), 0, 3 / Math.Sqrt(2) }, path[4].data<double>().ToArray(), new Tolerance(1e-12));
        using var line = LatentPaths.Linear(z0, z1, 8);
        Assert.Equal(3 / Math.Sqrt(2), line[4].norm().item<double>(), 12);
        // Equal angles between consecutive points.
        var angles = Enumerable.Range(0, 8).Select(k => Math.Acos(torch.dot(path[k], path[k + 1]).item<double>() / 9)).ToArray();
        Assert.All(angles, a => Assert.Equal(Math.PI / 16, a, 12));
        // Parallel codes have no unique arc: slerp falls back to the line.
        using var twice = Vec(6, 0, 0);
        using var parallel = LatentPaths.Spherical(z0, twice, 2);
        Assert.Equal(new[] { 4.5, 0, 0 }, parallel[1].data<double>().ToArray());
    }

    [Fact]
    public void OnALinearGeneratorThePullBackGeodesicIsTheStraightLine()
    {
        using var a = tensor(new[] { 1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 0.0, 1.0 }, new long[] { 4, 2 }, ScalarType.Float64);
        Func<Tensor, Tensor> g = z => torch.mm(z, a.t());
        using var z0 = Vec(-1, 0.5);
        using var z1 = Vec(2, 1);
        using var line = LatentPaths.Linear(z0, z1, 10);
        double linear = LatentPaths.Energy(g, line);

        // From the line itself, and from a bent start: both end on the line's energy.
        var fromLine = LatentPaths.Geodesic(g, z0, z1, new GeodesicConfig(Steps: 10, Iterations: 100));
        using var bent = line + torch.sin(torch.linspace(0, Math.PI, 11, ScalarType.Float64)).unsqueeze(1) * Vec(0.3, -0.4);
        var fromBent = LatentPaths.Geodesic(g, z0, z1, new GeodesicConfig(Steps: 10, Iterations: 2000, LearningRate: 0.02), initial: bent);
        using (fromLine.Path)
        using (fromBent.Path)
        {
            Assert.Equal(linear, fromLine.InitialEnergy, 12);
            Assert.Equal(linear, fromLine.FinalEnergy, 6);
            Assert.True(fromBent.InitialEnergy > linear + 0.1);
            Assert.Equal(linear, fromBent.FinalEnergy, 6);
            Assert.Equal(line.data<double>().ToArray(), fromBent.Path.data<double>().ToArray(), new Tolerance(1e-3));
            Assert.Equal(z0.data<double>().ToArray(), fromBent.Path[0].data<double>().ToArray());
            Assert.Equal(z1.data<double>().ToArray(), fromBent.Path[10].data<double>().ToArray());
        }
    }

    [Fact]
    public void TheGeodesicGoesAroundABumpWithLessEnergyThanTheLine()
    {
        using var z0 = Vec(-2, 0.3);
        using var z1 = Vec(2, 0.3);
        using var line = LatentPaths.Linear(z0, z1, 16);
        double linear = LatentPaths.Energy(Bump, line);
        var reports = new List<GeodesicProgress>();
        var result = LatentPaths.Geodesic(Bump, z0, z1, new GeodesicConfig(Steps: 16, Iterations: 300, LearningRate: 0.05), progress: new Collect(reports));
        using var path = result.Path;

        Assert.Equal(linear, result.InitialEnergy, 12);
        Assert.True(result.FinalEnergy < 0.8 * linear, $"geodesic energy {result.FinalEnergy} vs line {linear}");
        Assert.Equal(result.FinalEnergy, LatentPaths.Energy(Bump, path), 12);
        Assert.Equal(z0.data<double>().ToArray(), path[0].data<double>().ToArray());
        Assert.Equal(z1.data<double>().ToArray(), path[16].data<double>().ToArray());
        Assert.True(path[8][1].item<double>() > 0.8, "the midpoint moves away from the bump");
        Assert.Equal(new[] { 0, 50, 100, 150, 200, 250, 300 }, reports.Select(r => r.Iteration));
    }

    [Fact]
    public void TheRealismWeightedGeodesicAvoidsWhereSamplesLookFake()
    {
        // G = identity, so the pull-back geodesic is the straight line; the critic calls the region near the
        // origin fake (score −5 there, 0 far away).
        Func<Tensor, Tensor> g = z => z * 1.0;
        Func<Tensor, Tensor> critic = x => -5 * torch.exp(-x.square().sum(new long[] { 1 }) / 0.5);
        var weight = new RealismWeight(Reference: 0, Scale: 0.5, Beta: 2);
        using var z0 = Vec(-2, 0.1);
        using var z1 = Vec(2, 0.1);
        using var line = LatentPaths.Linear(z0, z1, 16);
        var aware = LatentPaths.RealismWeightedGeodesic(g, critic, weight, z0, z1, new GeodesicConfig(Steps: 16, Iterations: 400, LearningRate: 0.05));
        var plain = LatentPaths.Geodesic(g, z0, z1, new GeodesicConfig(Steps: 16, Iterations: 100));
        using (aware.Path)
        using (plain.Path)
        {
            Assert.Equal(LatentPaths.Energy(g, line, critic, weight), aware.InitialEnergy, 12);
            Assert.True(aware.FinalEnergy < aware.InitialEnergy);
            Assert.Equal(z0.data<double>().ToArray(), aware.Path[0].data<double>().ToArray());
            Assert.Equal(z1.data<double>().ToArray(), aware.Path[16].data<double>().ToArray());

            var lineScores = LatentPaths.Score(g, line, critic);
            var plainScores = LatentPaths.Score(g, plain.Path, critic);
            var awareScores = LatentPaths.Score(g, aware.Path, critic);
            Assert.Equal(lineScores.CriticMin, plainScores.CriticMin, 6); // the plain geodesic is the line
            Assert.True(awareScores.CriticMin > lineScores.CriticMin + 2, $"critic min {awareScores.CriticMin} vs {lineScores.CriticMin}");
            Assert.True(awareScores.CriticMean > lineScores.CriticMean);
            Assert.True(awareScores.Length > lineScores.Length, "the detour is longer in sample space");
        }
    }

    [Fact]
    public void ScoresMeasureLengthCriticAndClassifierConfidence()
    {
        // G(z) = 2z on a path (0,0) → (3,4) in 5 steps: length 2·5 = 10, energy 5·(2·1)² = 20.
        using var path = LatentPaths.Linear(Vec(0, 0), Vec(3, 4), 5);
        Func<Tensor, Tensor> g = z => 2 * z;
        Func<Tensor, Tensor> critic = x => x.sum(new long[] { 1 });     // 0, 2.8, …, 14
        Func<Tensor, Tensor> classifier = x => torch.stack(new[] { x[.., 0], torch.zeros_like(x[.., 0]) }, 1);
        var s = LatentPaths.Score(g, path, critic, classifier);
        Assert.Equal(10, s.Length, 12);
        Assert.Equal(20, s.Energy, 12);
        Assert.Equal(0, s.CriticMin, 12);
        Assert.Equal(7, s.CriticMean, 12);
        // Logits (2x₀, 0) at x₀ = 0, 1.2, …, 6: confidence 1/(1 + e^{−x₀}), lowest (0.5) at the start.
        Assert.Equal(0.5, s.ConfidenceMin!.Value, 12);
        var expected = Enumerable.Range(0, 6).Select(k => 1 / (1 + Math.Exp(-1.2 * k))).Average();
        Assert.Equal(expected, s.ConfidenceMean!.Value, 12);
        Assert.Null(LatentPaths.Score(g, path, critic).ConfidenceMin);
    }

    [Fact]
    public void RealismWeightGrowsWhereSamplesLookFake()
    {
        var h = new RealismWeight(Reference: 1, Scale: 0.5, Beta: 2);
        Assert.Equal(1 + 2 * Math.Log(2), h.Apply(1.0), 12);
        Assert.True(h.Apply(5.0) < 1.001);
        // Far below D_ref, h ≈ 1 + β(D_ref − d)/s: softplus(8) = 8 + log(1 + e⁻⁸).
        Assert.Equal(1 + 2 * (8 + Math.Log(1 + Math.Exp(-8))), h.Apply(-3.0), 12);
        using var scores = Vec(1, 5, -3);
        using var applied = h.Apply(scores);
        Assert.Equal(new[] { h.Apply(1.0), h.Apply(5.0), h.Apply(-3.0) }, applied.data<double>().ToArray(), new Tolerance(1e-12));

        using var real = tensor(new[] { 1.0, 2.0, 3.0, 4.0 }, new long[] { 4, 1 }, ScalarType.Float64);
        var calibrated = RealismWeight.Calibrate(x => x.squeeze(1), real, beta: 3, batchSize: 3);
        Assert.Equal(2.5, calibrated.Reference, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3), calibrated.Scale, 12);
        Assert.Equal(3, calibrated.Beta);
        Assert.Throws<BasinException>(() => new RealismWeight(0, Scale: 0).Apply(scores));
    }

    [Fact]
    public void RejectsMismatchedEndpointsAndGeneratorsThatIgnoreTheirInput()
    {
        using var z0 = Vec(0, 0);
        using var z1 = Vec(1, 1, 1);
        Assert.Equal("latent endpoints must be vectors [d] of the same length, got [2] and [3]",
            Assert.Throws<BasinException>(() => LatentPaths.Linear(z0, z1, 4)).Message);
        using var z2 = Vec(1, 1);
        Assert.Throws<BasinException>(() => LatentPaths.Spherical(z0, z2, 0));
        var w = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64, requires_grad: true);
        var e = Assert.Throws<BasinException>(() => LatentPaths.Geodesic(z => w.expand(z.shape[0], 2) * 1, z0, z2, new GeodesicConfig(Steps: 4, Iterations: 3)));
        Assert.Equal("the generator's output does not depend on the latent codes", e.Message);
    }

    sealed class Collect(List<GeodesicProgress> list) : IProgress<GeodesicProgress>
    {
        public void Report(GeodesicProgress value) => list.Add(value);
    }

    sealed class Tolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
