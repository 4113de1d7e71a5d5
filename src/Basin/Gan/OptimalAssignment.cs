namespace Basin.Gan;

/// <summary>
/// The linear assignment problem: a permutation σ minimizing Σᵢ cost[i, σ(i)] for a square cost matrix, by the
/// Hungarian method in its shortest-augmenting-path form (Jonker–Volgenant style, O(n³)): rows are added one at a
/// time, each by a Dijkstra-like search over reduced costs cost[i,j] − u[i] − v[j] kept non-negative by the
/// dual potentials u, v.
/// </summary>
public static class OptimalAssignment
{
    /// <summary>Returns σ with σ[i] the column assigned to row i, and the minimal total cost (summed from the original
    /// entries).</summary>
    public static (int[] Assignment, double Cost) Solve(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int n = cost.GetLength(0);
        if (cost.GetLength(1) != n) throw new BasinException($"assignment needs a square cost matrix, got {n}×{cost.GetLength(1)}");
        foreach (var c in cost)
            if (!double.IsFinite(c)) throw new BasinException($"assignment costs must be finite, found {c}");
        if (n == 0) return ([], 0);

        // 1-based arrays with a virtual column 0 that holds the row being inserted.
        var u = new double[n + 1];
        var v = new double[n + 1];
        var rowOfColumn = new int[n + 1];
        var way = new int[n + 1];
        var minReduced = new double[n + 1];
        var used = new bool[n + 1];
        for (int i = 1; i <= n; i++)
        {
            rowOfColumn[0] = i;
            int j0 = 0;
            Array.Fill(minReduced, double.PositiveInfinity);
            Array.Fill(used, false);
            do
            {
                used[j0] = true;
                int i0 = rowOfColumn[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double reduced = cost[i0 - 1, j - 1] - u[i0] - v[j];
                    if (reduced < minReduced[j]) { minReduced[j] = reduced; way[j] = j0; }
                    if (minReduced[j] < delta) { delta = minReduced[j]; j1 = j; }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j]) { u[rowOfColumn[j]] += delta; v[j] -= delta; }
                    else minReduced[j] -= delta;
                }
                j0 = j1;
            } while (rowOfColumn[j0] != 0);
            // Augment along the alternating path back to the virtual column.
            do
            {
                int j1 = way[j0];
                rowOfColumn[j0] = rowOfColumn[j1];
                j0 = j1;
            } while (j0 != 0);
        }

        var assignment = new int[n];
        for (int j = 1; j <= n; j++) assignment[rowOfColumn[j] - 1] = j - 1;
        double total = 0;
        for (int i = 0; i < n; i++) total += cost[i, assignment[i]];
        return (assignment, total);
    }
}
