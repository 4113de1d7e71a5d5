using Basin.Gan;
using Basin.Models;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>The permutation of each hidden layer's units applied to the second model, and how many sweeps the matching took.</summary>
public sealed record Alignment(IReadOnlyList<int[]> Permutations, int Sweeps, int UnitsMoved);

/// <summary>
/// Weight matching ("Git Re-Basin", Ainsworth, Hayase, Srinivasa 2023): permutes the hidden units of MLP B so that its weights are as
/// close as possible to A's, maximizing Σ_ℓ ⟨W_ℓ^A, P_ℓ W_ℓ^B P_{ℓ−1}ᵀ⟩ + ⟨b_ℓ^A, P_ℓ b_ℓ^B⟩ by coordinate
/// descent over layers, each step a linear assignment. Permuting hidden units leaves B's function unchanged; it removes the symmetry that
/// puts two independently trained networks far apart on a straight line.
/// </summary>
public static class WeightMatching
{
    /// <summary>Permutes <paramref name="b"/>'s hidden units in place to match <paramref name="a"/>; both must be MLPs of one
    /// architecture.</summary>
    public static Alignment Align(Classifier a, Classifier b, int maxSweeps = 100)
    {
        if (a is not Mlp ma || b is not Mlp mb)
            throw new BasinException($"neuron alignment supports mlp models only, not {(a is Mlp ? b.Spec : a.Spec)}");
        Directions.CheckSameArchitecture(a, b);
        int layers = ma.HiddenWidths.Count + 1;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor W(Classifier m, int l) => m.get_parameter($"fc{l}.weight")!.detach().to_type(ScalarType.Float64);
        Tensor B(Classifier m, int l) => m.get_parameter($"fc{l}.bias")!.detach().to_type(ScalarType.Float64);
        var wa = Enumerable.Range(1, layers).Select(l => W(a, l)).ToArray();
        var ba = Enumerable.Range(1, layers).Select(l => B(a, l)).ToArray();
        var wb = Enumerable.Range(1, layers).Select(l => W(b, l)).ToArray();
        var bb = Enumerable.Range(1, layers).Select(l => B(b, l)).ToArray();
        int hidden = layers - 1;
        var perms = ma.HiddenWidths.Select(w => Enumerable.Range(0, w).ToArray()).ToArray();
        Tensor Index(int[] p) => torch.tensor(p.Select(i => (long)i).ToArray(), ScalarType.Int64);
        int sweeps = 0;
        for (; sweeps < maxSweeps; sweeps++)
        {
            bool changed = false;
            for (int h = 0; h < hidden; h++)
            {
                using var inner = torch.NewDisposeScope();
                // Unit i of A against unit j of B: incoming weights (B's inputs already permuted), bias, outgoing weights.
                var incoming = h == 0 ? wb[0] : wb[h].index_select(1, Index(perms[h - 1]));
                var outgoing = h + 1 < hidden ? wb[h + 1].index_select(0, Index(perms[h + 1])) : wb[h + 1];
                var similarity = wa[h].matmul(incoming.t())
                    .add(ba[h].unsqueeze(1).mul(bb[h].unsqueeze(0)), Scalars.One)
                    .add(wa[h + 1].t().matmul(outgoing), Scalars.One);
                int n = perms[h].Length;
                var s = similarity.data<double>().ToArray();
                var cost = new double[n, n];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) cost[i, j] = -s[i * n + j];
                var (assignment, _) = OptimalAssignment.Solve(cost);
                if (!assignment.SequenceEqual(perms[h])) { perms[h] = assignment; changed = true; }
            }
            if (!changed) { sweeps++; break; }
        }
        // Apply: rows of layer h+1 (0-based h) and its bias by perm_h, columns of the next layer by perm_h.
        for (int h = 0; h < hidden; h++)
        {
            var index = Index(perms[h]);
            var w = b.get_parameter($"fc{h + 1}.weight")!;
            var bias = b.get_parameter($"fc{h + 1}.bias")!;
            var next = b.get_parameter($"fc{h + 2}.weight")!;
            w.copy_(w.index_select(0, index));
            bias.copy_(bias.index_select(0, index));
            next.copy_(next.index_select(1, index));
        }
        int moved = perms.Sum(p => p.Where((j, i) => j != i).Count());
        return new Alignment(perms, sweeps, moved);
    }
}
