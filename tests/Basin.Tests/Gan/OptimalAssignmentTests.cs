using Basin.Gan;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Gan;

public class OptimalAssignmentTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(5, 4)]
    [InlineData(6, 5)]
    [InlineData(7, 6)]
    [InlineData(7, 7)]
    public void MatchesBruteForceOverAllPermutations(int n, int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 5; trial++)
        {
            var cost = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    // Small integers make ties likely, which exercises the search; negative costs are allowed.
                    cost[i, j] = trial % 2 == 0 ? random.Next(-3, 6) : random.NextDouble() * 10 - 2;
            var (assignment, total) = OptimalAssignment.Solve(cost);

            Assert.Equal(Enumerable.Range(0, n), assignment.OrderBy(j => j));
            Assert.Equal(Enumerable.Range(0, n).Sum(i => cost[i, assignment[i]]), total, 12);
            Assert.Equal(BruteForce(cost), total, 9);
        }
    }

    [Fact]
    public void HandWorkedExample()
    {
        // Rows 0,1,2 → columns 1,0,2 costs 1 + 2 + 2 = 5; every other permutation costs more.
        var cost = new double[,] { { 4, 1, 3 }, { 2, 0, 5 }, { 3, 2, 2 } };
        var (assignment, total) = OptimalAssignment.Solve(cost);
        Assert.Equal(new[] { 1, 0, 2 }, assignment);
        Assert.Equal(5, total);
    }

    [Fact]
    public void RejectsNonSquareAndNonFinite()
    {
        Assert.Equal("assignment needs a square cost matrix, got 2×3", Assert.Throws<BasinException>(() => OptimalAssignment.Solve(new double[2, 3])).Message);
        Assert.Throws<BasinException>(() => OptimalAssignment.Solve(new double[,] { { 0, double.NaN }, { 1, 1 } }));
        Assert.Empty(OptimalAssignment.Solve(new double[0, 0]).Assignment);
    }

    [Fact]
    public void W1OfIdenticalSetsIsZeroInAnyOrder()
    {
        using var a = randn(64, 2, generator: new TorchSharp.torch.Generator(3));
        using var shuffled = a.index(randperm(64, generator: new TorchSharp.torch.Generator(4)));
        Assert.Equal(0.0, ExactWasserstein.Distance(a, a));
        Assert.Equal(0.0, ExactWasserstein.Distance(a, shuffled));
    }

    [Fact]
    public void W1OfTranslatedSetIsTheTranslationLength()
    {
        // Points and shift are small dyadic numbers, so x + c and the distances 3-4-5 are exact in floating point.
        var random = new Random(5);
        var a = Enumerable.Range(0, 40).Select(_ => new double[] { random.Next(-8, 8) / 4.0, random.Next(-8, 8) / 4.0 }).ToArray();
        var b = a.Select(p => new[] { p[0] + 0.75, p[1] - 1.0 }).Reverse().ToArray();
        Assert.Equal(1.25, ExactWasserstein.Distance(a, b));

        // In general position: W1(μ, μ + c) = ‖c‖ (Jensen gives ≥, the shift coupling gives ≤).
        using var x = randn(100, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(6));
        using var shift = tensor(new[] { 0.3, -1.2, 0.4 }, ScalarType.Float64);
        using var y = x + shift;
        Assert.Equal(Math.Sqrt(0.09 + 1.44 + 0.16), ExactWasserstein.Distance(x, y), 12);
    }

    [Fact]
    public void W1IsSymmetricAndHandlesTheEvaluationSize()
    {
        using var a = randn(512, 2, generator: new TorchSharp.torch.Generator(7));
        using var b = randn(512, 2, generator: new TorchSharp.torch.Generator(8)) * 0.5 + 1;
        double ab = ExactWasserstein.Distance(a, b), ba = ExactWasserstein.Distance(b, a);
        Assert.Equal(ab, ba, 9);
        // W1 ≥ ‖mean difference‖ (Jensen), and ≤ the cost of the identity coupling.
        using var meanGap = (a.to(ScalarType.Float64).mean(new long[] { 0 }) - b.to(ScalarType.Float64).mean(new long[] { 0 })).norm();
        using var identity = (a - b).norm(1).mean();
        Assert.InRange(ab, meanGap.item<double>() - 1e-9, identity.item<float>() + 1e-6);
    }

    [Fact]
    public void W1RejectsMismatchedSets()
    {
        using var a = zeros(4, 2);
        using var b = zeros(5, 2);
        Assert.Equal("W1 needs two point sets of the same shape [n,...], got [4,2] and [5,2]", Assert.Throws<BasinException>(() => ExactWasserstein.Distance(a, b)).Message);
    }

    static double BruteForce(double[,] cost)
    {
        int n = cost.GetLength(0);
        double best = double.PositiveInfinity;
        var perm = Enumerable.Range(0, n).ToArray();
        void Visit(int k)
        {
            if (k == n)
            {
                best = Math.Min(best, Enumerable.Range(0, n).Sum(i => cost[i, perm[i]]));
                return;
            }
            for (int i = k; i < n; i++)
            {
                (perm[k], perm[i]) = (perm[i], perm[k]);
                Visit(k + 1);
                (perm[k], perm[i]) = (perm[i], perm[k]);
            }
        }
        Visit(0);
        return best;
    }
}
