namespace Basin.Robustness;

/// <summary>
/// One merge of a dendrogram: clusters <see cref="Left"/> &lt; <see cref="Right"/> join at <see cref="Height"/> into
/// cluster n + (index of the merge) of <see cref="Size"/> leaves. Leaves are clusters 0..n−1.
/// </summary>
public sealed record DendrogramMerge(int Left, int Right, double Height, int Size);

/// <summary>
/// Agglomerative clustering with average linkage (UPGMA): the distance between two clusters is the mean distance over
/// their pairs of leaves; each step joins the closest pair (ties: the pair of lowest ids, compared as (lower, higher)).
/// Used on 1 − per-sample agreement to draw which pruning methods fail the same samples ("Understanding Robustness
/// Lottery", method similarity).
/// </summary>
public static class Dendrogram
{
    /// <summary>The n − 1 merges of <paramref name="distance"/>, a symmetric n × n matrix of finite distances, in order.</summary>
    public static IReadOnlyList<DendrogramMerge> Cluster(double[,] distance)
    {
        int n = distance.GetLength(0);
        if (n < 1 || distance.GetLength(1) != n)
            throw new BasinException($"a dendrogram needs a square distance matrix of at least one row, got {n} × {distance.GetLength(1)}");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (!double.IsFinite(distance[i, j]) || distance[i, j] != distance[j, i])
                    throw new BasinException($"a dendrogram needs finite, symmetric distances; entry ({i}, {j}) is {distance[i, j]}, " +
                        $"({j}, {i}) is {distance[j, i]}");
        // Active clusters by id, each with its leaves in order.
        var clusters = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < n; i++) clusters[i] = [i];
        var merges = new List<DendrogramMerge>();
        while (clusters.Count > 1)
        {
            var ids = clusters.Keys.ToArray();
            (int A, int B, double D) best = (-1, -1, double.PositiveInfinity);
            for (int a = 0; a < ids.Length; a++)
                for (int b = a + 1; b < ids.Length; b++)
                {
                    double d = Mean(distance, clusters[ids[a]], clusters[ids[b]]);
                    if (d < best.D) best = (ids[a], ids[b], d);
                }
            var leaves = clusters[best.A].Concat(clusters[best.B]).ToList();
            clusters.Remove(best.A);
            clusters.Remove(best.B);
            clusters[n + merges.Count] = leaves;
            merges.Add(new DendrogramMerge(best.A, best.B, best.D, leaves.Count));
        }
        return merges;
    }

    /// <summary>The leaves from left to right: each merge's left cluster, then its right one.</summary>
    public static int[] LeafOrder(IReadOnlyList<DendrogramMerge> merges, int leaves)
    {
        if (merges.Count != leaves - 1) throw new BasinException($"{leaves} leaves need {leaves - 1} merges, got {merges.Count}");
        var order = new List<int>();
        void Walk(int id)
        {
            if (id < leaves) order.Add(id);
            else
            {
                Walk(merges[id - leaves].Left);
                Walk(merges[id - leaves].Right);
            }
        }
        Walk(2 * leaves - 2);
        return order.ToArray();
    }

    static double Mean(double[,] distance, List<int> a, List<int> b)
    {
        double sum = 0;
        foreach (var i in a) foreach (var j in b) sum += distance[i, j];
        return sum / (a.Count * b.Count);
    }
}
