using Basin.Gan;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class PaperGeodesicTests
{
    static Tensor Vec(params double[] v) => tensor(v, ScalarType.Float64);

    static readonly PolynomialPathConfig NoPenalty = new(Steps: 10, Degree: 4, OutOfDomainWeight: 0);

    [Fact]
    public void DenominatorIsTheClippedGeometricMeanPlusEpsilon()
    {
        using var p = Vec(0.04, 0.09, 0.5, 0.5, 1e-30, 1.0);
        using var logP = p.log();
        using var d = PaperGeodesic.Denominator(logP);
        Assert.Equal(new[] { 0.07, Math.Sqrt(0.045) + 0.01, 0.41, 0.01 + Math.Sqrt(0.5e-30), 0.01 + 1e-15 },
            d.data<double>().ToArray(), new Tolerance(1e-12));
    }

    [Fact]
    public void PathsStartOnTheLineAndKeepTheirEndpointsToTheLastBit()
    {
        using var z0 = randn(5, generator: new torch.Generator(1));
        using var z1 = randn(5, generator: new torch.Generator(2));
        using var zero = zeros(3, 5);
        using var line = PaperGeodesic.Path(z0, z1, zero, 8);
        using var linear = LatentPaths.Linear(z0, z1, 8);
        Assert.Equal(linear.data<float>().ToArray(), line.data<float>().ToArray(), new Close32(1e-6f));
        using var seven = tensor(7f);
        using var c = randn(new long[] { 3, 5 }, generator: new torch.Generator(3)).mul(seven);
        using var curve = PaperGeodesic.Path(z0, z1, c, 8);
        Assert.Equal(z0.data<float>().ToArray(), curve[0].data<float>().ToArray());
        Assert.Equal(z1.data<float>().ToArray(), curve[8].data<float>().ToArray());
        // z(t) = z0 + t(z1 − z0) + Σ c_k (t^k − t) at t = 1/2.
        double t = 0.5;
        var expected = Enumerable.Range(0, 5).Select(j =>
            z0[j].item<float>() + t * (z1[j].item<float>() - z0[j].item<float>())
            + Enumerable.Range(0, 3).Sum(k => c[k][j].item<float>() * (Math.Pow(t, k + 2) - t))).ToArray();
        Assert.Equal(expected, curve[4].data<float>().ToArray().Select(x => (double)x).ToArray(), new Tolerance(1e-5));
    }

    [Fact]
    public void OnALinearGeneratorTheJacobianPathConvergesToTheLine()
    {
        // G(z) = A z with A of full column rank: among paths with fixed ends the discrete energy is a strictly convex
        // quadratic in the coefficients, minimized by the uniform straight line: T·‖A(z1 − z0)/T‖².
        using var a = tensor(new[] { 1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 0.0, 1.0 }, new long[] { 4, 2 }, ScalarType.Float64);
        Func<Tensor, Tensor> g = z => torch.mm(z, a.t());
        using var z0 = Vec(-1, 0.5);
        using var z1 = Vec(2, 1);
        using var delta = torch.mv(a, z1 - z0);
        double optimum = delta.square().sum().item<double>() / 10;
        var config = NoPenalty with { Iterations = 1500, LearningRate = 0.01, InitialScale = 3, Seed = 4 };
        var result = PaperGeodesic.Jacobian(g, z0, z1, config);
        using var line = LatentPaths.Linear(z0, z1, 10);
        using (result.Path)
        {
            Assert.True(result.InitialEnergy > optimum + 1, $"start {result.InitialEnergy} vs optimum {optimum}");
            // Constant-rate Adam (as the authors run it) jitters around the minimum; no path beats the line.
            Assert.InRange(result.FinalEnergy, optimum - 1e-12, optimum * (1 + 1e-4));
            Assert.Equal(optimum, LatentPaths.Energy(g, line), 12);
            Assert.Equal(line.data<double>().ToArray(), result.Path.data<double>().ToArray(), new Tolerance(1e-2));
            Assert.Equal(z0.data<double>().ToArray(), result.Path[0].data<double>().ToArray());
            Assert.Equal(z1.data<double>().ToArray(), result.Path[10].data<double>().ToArray());
        }
    }

    [Fact]
    public void AConstantProbabilityDividesTheJacobianEnergyByTheSquaredDenominator()
    {
        Func<Tensor, Tensor> g = z => torch.cat(new[] { z, z.sin() }, 1);
        using var z0 = Vec(-1, 0.5);
        using var z1 = Vec(2, 1);
        using var c = Vec(0.3, -0.2, 0.1, 0.4).reshape(2, 2);
        using var path = PaperGeodesic.Path(z0, z1, c, 10);
        double jacobian = PaperGeodesic.Objective(g, path, NoPenalty);
        Assert.Equal(LatentPaths.Energy(g, path), jacobian, 12);
        // Scores 0 mapped by σ((s − m)/σ) with m = ln 3 (D = 1/4 everywhere): d = 0.26.
        Func<Tensor, Tensor> critic = x => torch.zeros(x.shape[0], dtype: ScalarType.Float64);
        var quarter = new CriticProbability(ProbabilityMap.StandardizedSigmoid, Reference: Math.Log(3), Scale: 1);
        Assert.Equal(0.25, quarter.Probability(0), 12);
        Assert.Equal(jacobian / (0.26 * 0.26), PaperGeodesic.Objective(g, path, NoPenalty, critic, quarter), 9);
        // D = ½ (raw sigmoid of 0): √(D·D) + 0.01 = 0.51 is clipped to 0.41.
        var half = new CriticProbability(ProbabilityMap.Sigmoid);
        Assert.Equal(jacobian / (0.41 * 0.41), PaperGeodesic.Objective(g, path, NoPenalty, critic, half), 9);
    }

    [Fact]
    public void TheOutOfDomainPenaltyCountsEachCoordinateBeyondTheBound()
    {
        Func<Tensor, Tensor> g = z => torch.ones_like(z); // constant generator: no energy
        using var z0 = Vec(0, 4);   // one coordinate 1 beyond b = 3
        using var z1 = Vec(-5, 0);  // one coordinate 2 beyond
        using var path = LatentPaths.Linear(z0, z1, 1);
        var config = new PolynomialPathConfig(Steps: 2, LatentBound: 3, OutOfDomainWeight: 2);
        Assert.Equal(2 * ((Math.E - 1) + (Math.Exp(2) - 1)), PaperGeodesic.Objective(g, path, config), 12);
        Assert.Equal(0.0, PaperGeodesic.Objective(g, path, config with { OutOfDomainWeight = 0 }));
    }

    [Fact]
    public void ThePaperPathAvoidsWhereTheCriticSaysFakeAndTheJacobianDoesNot()
    {
        // G = identity, so the Jacobian optimum is the straight line through the origin; the critic calls the disc of
        // radius ~0.7 around the origin fake.
        // (Scalars as tensors held by the test: implicit Scalar conversions can be finalized mid-call.)
        Func<Tensor, Tensor> g = z => z.clone();
        using var minusTwo = tensor(-2.0);
        using var minusEight = tensor(-8.0);
        using var two = tensor(2.0);
        Func<Tensor, Tensor> critic = x => torch.exp(x.square().sum(new long[] { 1 }).mul(minusTwo)).mul(minusEight).add(two);
        var probability = new CriticProbability(ProbabilityMap.Sigmoid);
        using var z0 = Vec(-2, 0.05);
        using var z1 = Vec(2, 0.05);
        var config = new PolynomialPathConfig(Steps: 16, Degree: 6, Iterations: 600, LearningRate: 0.02, OutOfDomainWeight: 0);
        var paper = PaperGeodesic.DiscriminatorAware(g, critic, probability, z0, z1, config);
        var jacobian = PaperGeodesic.Jacobian(g, z0, z1, config);
        using (paper.Path)
        using (jacobian.Path)
        {
            Assert.True(paper.FinalEnergy < 0.5 * paper.InitialEnergy, $"{paper.InitialEnergy} → {paper.FinalEnergy}");
            Assert.Equal(z0.data<double>().ToArray(), paper.Path[0].data<double>().ToArray());
            Assert.Equal(z1.data<double>().ToArray(), paper.Path[16].data<double>().ToArray());
            using var paperRadius = paper.Path.norm(1).min();
            using var jacobianRadius = jacobian.Path.norm(1).min();
            Assert.True(jacobianRadius.item<double>() < 0.1, $"Jacobian path passes the origin at {jacobianRadius.item<double>()}");
            Assert.True(paperRadius.item<double>() > 0.6, $"paper path keeps {paperRadius.item<double>()} from the origin");
            var paperScores = LatentPaths.Score(g, paper.Path, critic);
            var jacobianScores = LatentPaths.Score(g, jacobian.Path, critic);
            Assert.True(paperScores.CriticMin > jacobianScores.CriticMin + 3);
        }
    }

    [Fact]
    public void WithoutACriticThePaperMethodIsAOneLineError()
    {
        using var z0 = Vec(0, 0);
        using var z1 = Vec(1, 1);
        var e = Assert.Throws<BasinException>(() => PaperGeodesic.DiscriminatorAware(z => z.clone(), null, null, z0, z1, new PolynomialPathConfig()));
        Assert.Contains("needs a critic", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal("the path's degree must be at least 2 (degree 1 is the straight line), got 1",
            Assert.Throws<BasinException>(() => new PolynomialPathConfig(Degree: 1)).Message);
        Assert.Equal("latent path needs at least 1 step, got 0", Assert.Throws<BasinException>(() => new GeodesicConfig(Steps: 0)).Message);
    }

    [Fact]
    public void CalibrationStandardizesByTheRealScores()
    {
        using var real = Vec(1, 2, 3, 4).reshape(4, 1);
        var p = CriticProbability.Calibrate(x => x.flatten(), real, ProbabilityMap.StandardizedSigmoid);
        Assert.Equal(2.5, p.Reference, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3), p.Scale, 12);
        Assert.Equal(0.5, p.Probability(2.5), 12);
        Assert.Equal(new CriticProbability(ProbabilityMap.Sigmoid), CriticProbability.Calibrate(x => x.flatten(), real, ProbabilityMap.Sigmoid));
        Assert.Equal(ProbabilityMap.StandardizedSigmoid, CriticProbability.Parse("standardized-sigmoid"));
        Assert.Throws<BasinException>(() => CriticProbability.Parse("rank"));
    }

    sealed class Tolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }

    sealed class Close32(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
