namespace Basin.Tightness;

/// <summary>
/// One row of the learnability–estimability table for parities over GF(2)^d with m uniform samples and a uniform
/// target, the learner being <see cref="Gf2Elimination"/> (free variables 0). Given S with r = rank(X_S), the learner
/// is exact with probability p = 2^{−(d−r)} and otherwise has population loss exactly ½, so any bound B(A, S) errs by
/// at least ½·min(p, 1 − p) in expectation (the posterior median attains it).
/// <paramref name="ExactProbability"/> = E[p], <paramref name="ExpectedLoss"/> = E[L(A(S))] = E[½(1 − p)],
/// <paramref name="LeastBoundError"/> = E[½·min(p, 1 − p)]: no bound has a smaller average |B − L|, and the worst case
/// over targets is at least this.
/// </summary>
public sealed record ParityRow(int M, double ExactProbability, double ExpectedLoss, double LeastBoundError);

/// <summary>
/// A Monte Carlo check of a <see cref="ParityRow"/> with the learner run on real draws: a uniform target a, m uniform
/// x's, a' by elimination, L = 0 if a' = a else ½. The "posterior-median bound" is B = 0 when p &gt; ½ and ½ otherwise,
/// scored by |B − L|. Means over <paramref name="Draws"/> draws with their standard errors.
/// </summary>
public sealed record ParitySimulation(int M, int Draws, double ExactFraction, double MeanLoss, double MeanLossStandardError,
    double MedianBoundError, double MedianBoundErrorStandardError, bool AlwaysConsistent);

/// <summary>The exact table of Gastpar et al.'s learnability–estimability trade-off on parities, and its simulation.</summary>
public static class ParityTradeoff
{
    /// <summary>The exact row for dimension <paramref name="d"/> and sample size <paramref name="m"/>.</summary>
    public static ParityRow Exact(int d, int m)
    {
        var ranks = ParityRank.Distribution(d, m);
        double exact = 0, loss = 0, bound = 0;
        for (int r = 0; r <= d; r++)
        {
            double p = Math.ScaleB(1.0, r - d);
            exact += ranks[r] * p;
            loss += ranks[r] * 0.5 * (1 - p);
            bound += ranks[r] * 0.5 * Math.Min(p, 1 - p);
        }
        return new ParityRow(m, exact, loss, bound);
    }

    /// <summary>Runs the learner on <paramref name="draws"/> random (target, sample) pairs; see <see cref="ParitySimulation"/>.</summary>
    public static ParitySimulation Simulate(int d, int m, int draws, long seed)
    {
        Gf2Elimination.CheckDimension(d);
        if (m < 0) throw new BasinException($"sample size m must be ≥ 0, got {m}");
        if (draws < 2) throw new BasinException($"the simulation needs at least 2 draws, got {draws}");
        var random = Data.SeededRandom.Create(seed);
        ulong mask = (1UL << d) - 1;
        var rows = new ulong[m];
        var labels = new bool[m];
        int exact = 0;
        double lossSum = 0, lossSquares = 0, boundSum = 0, boundSquares = 0;
        bool consistent = true;
        for (int draw = 0; draw < draws; draw++)
        {
            ulong a = (ulong)random.NextInt64() & mask;
            for (int i = 0; i < m; i++)
            {
                rows[i] = (ulong)random.NextInt64() & mask;
                labels[i] = Gf2Elimination.Parity(a, rows[i]);
            }
            var solution = Gf2Elimination.Solve(rows, labels, d);
            consistent &= solution.Consistent;
            double loss = solution.Coefficients == a ? 0 : 0.5;
            if (loss == 0) exact++;
            double p = Math.ScaleB(1.0, solution.Rank - d);
            double bound = p > 0.5 ? 0 : 0.5;
            double error = Math.Abs(bound - loss);
            lossSum += loss;
            lossSquares += loss * loss;
            boundSum += error;
            boundSquares += error * error;
        }
        double StandardError(double sum, double squares) =>
            Math.Sqrt(Math.Max(0, squares / draws - Math.Pow(sum / draws, 2)) / (draws - 1));
        return new ParitySimulation(m, draws, (double)exact / draws, lossSum / draws, StandardError(lossSum, lossSquares),
            boundSum / draws, StandardError(boundSum, boundSquares), consistent);
    }
}
