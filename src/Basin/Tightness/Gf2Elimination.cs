using System.Numerics;

namespace Basin.Tightness;

/// <summary>
/// A solution of X·a = y over GF(2): <paramref name="Coefficients"/> is a' as a bit mask (bit j = a'_j), with every
/// free variable set to 0; <paramref name="Rank"/> is rank(X); <paramref name="Consistent"/> is false when no a'
/// satisfies all equations (then a' satisfies those of a maximal independent subset).
/// </summary>
public sealed record Gf2Solution(ulong Coefficients, int Rank, bool Consistent);

/// <summary>
/// Gaussian elimination over GF(2) on bit-packed rows: each row x ∈ {0,1}^d is a ulong whose bit j is x_j.
/// The parity learner of Gastpar et al.'s trade-off experiment: it returns the consistent parity with free variables 0.
/// </summary>
public static class Gf2Elimination
{
    /// <summary>The largest dimension d handled (the rows and masks are 64-bit words; d ≤ 62 keeps 2^d exact in a long).</summary>
    public const int MaxDimension = 62;

    /// <summary>Checks 1 ≤ d ≤ <see cref="MaxDimension"/>; the message names the limit.</summary>
    public static void CheckDimension(int d)
    {
        if (d < 1 || d > MaxDimension)
            throw new BasinException($"parity dimension d must be from 1 to {MaxDimension} for exact 64-bit GF(2) arithmetic, got {d}");
    }

    /// <summary>The parity a·x mod 2 of two bit masks.</summary>
    public static bool Parity(ulong a, ulong x) => (BitOperations.PopCount(a & x) & 1) == 1;

    /// <summary>rank(X) over GF(2).</summary>
    public static int Rank(ReadOnlySpan<ulong> rows, int d) => Solve(rows, new bool[rows.Length], d).Rank;

    /// <summary>Solves X·a = y (mod 2) for a' with free variables 0; see <see cref="Gf2Solution"/>.</summary>
    public static Gf2Solution Solve(ReadOnlySpan<ulong> rows, ReadOnlySpan<bool> labels, int d)
    {
        CheckDimension(d);
        if (rows.Length != labels.Length) throw new BasinException($"{rows.Length} rows but {labels.Length} labels");
        ulong mask = (1UL << d) - 1;
        // pivotRow[j]: the reduced row whose leading (lowest) set bit is j, with its label in bit 63.
        var pivotRow = new ulong[d];
        var hasPivot = new bool[d];
        int rank = 0;
        bool consistent = true;
        const ulong labelBit = 1UL << 63;
        for (int i = 0; i < rows.Length; i++)
        {
            ulong row = rows[i];
            bool label = labels[i];
            if ((row & ~mask) != 0) throw new BasinException($"row {row:X} has bits beyond dimension {d}");
            ulong r = row | (label ? labelBit : 0);
            while ((r & mask) != 0)
            {
                int j = BitOperations.TrailingZeroCount(r & mask);
                if (!hasPivot[j])
                {
                    pivotRow[j] = r;
                    hasPivot[j] = true;
                    rank++;
                    break;
                }
                r ^= pivotRow[j];
            }
            if ((r & mask) == 0 && (r & labelBit) != 0) consistent = false;
        }
        // Back substitution from the highest pivot down: a'_j = label_j ⊕ Σ_{k>j, bit k of row j} a'_k, free a'_k = 0.
        ulong a = 0;
        for (int j = d - 1; j >= 0; j--)
        {
            if (!hasPivot[j]) continue;
            ulong r = pivotRow[j];
            bool bit = (r & labelBit) != 0;
            bit ^= Parity(r & mask & ~(1UL << j), a);
            if (bit) a |= 1UL << j;
        }
        return new Gf2Solution(a, rank, consistent);
    }
}
