using Basin.Flatness;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Vector helpers over lists of tensors shaped like a <see cref="ParameterSet"/> (PyHessian's group_product,
/// group_add, normalization, orthnormal). Inner products are accumulated in C# doubles.
/// New tensors are created in the caller's dispose scope.
/// </summary>
public static class ParamVectors
{
    public static double Dot(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Count; i++)
        {
            using var d = torch.dot(a[i].reshape(-1), b[i].reshape(-1));
            sum += d.ToDouble();
        }
        return sum;
    }

    public static double Norm(IReadOnlyList<Tensor> a) => Math.Sqrt(Dot(a, a));

    /// <summary>a + alpha·b, new tensors.</summary>
    public static Tensor[] Add(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, double alpha = 1)
    {
        using var s = alpha.ToScalar();
        return a.Select((t, i) => t.add(b[i], s)).ToArray();
    }

    /// <summary>In place: a += alpha·b.</summary>
    public static void AddInPlace(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, double alpha = 1)
    {
        using var s = alpha.ToScalar();
        for (int i = 0; i < a.Count; i++) a[i].add_(b[i], s);
    }

    public static Tensor[] Scale(IReadOnlyList<Tensor> a, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.Select(t => t.mul(s)).ToArray();
    }

    /// <summary>a / ‖a‖ (new tensors); a zero vector stays zero.</summary>
    public static Tensor[] Normalize(IReadOnlyList<Tensor> a)
    {
        double n = Norm(a);
        return Scale(a, n > 0 ? 1 / n : 0);
    }

    /// <summary>
    /// In place: removes from <paramref name="w"/> its components along the orthonormal <paramref name="basis"/>
    /// (classical Gram–Schmidt applied twice, which keeps Lanczos vectors orthogonal to working precision).
    /// </summary>
    public static void Orthogonalize(IReadOnlyList<Tensor> w, IReadOnlyList<IReadOnlyList<Tensor>> basis)
    {
        for (int pass = 0; pass < 2; pass++)
            foreach (var q in basis)
                AddInPlace(w, q, -Dot(w, q));
    }

    public static Tensor[] Zeros(IReadOnlyList<long[]> shapes, ScalarType dtype) =>
        shapes.Select(s => torch.zeros(s, dtype)).ToArray();

    /// <summary>Independent ±1 entries (Rademacher), drawn from <paramref name="generator"/>.</summary>
    public static Tensor[] Rademacher(IReadOnlyList<long[]> shapes, ScalarType dtype, Generator generator) =>
        shapes.Select(s =>
        {
            using var bits = torch.randint(0, 2, s, ScalarType.Int64, generator: generator);
            using var two = 2.ToScalar();
            using var one = 1.ToScalar();
            return bits.mul(two).sub_(one).to_type(dtype);
        }).ToArray();

    public static Tensor[] Gaussian(IReadOnlyList<long[]> shapes, ScalarType dtype, Generator generator) =>
        shapes.Select(s => torch.randn(s, dtype, generator: generator)).ToArray();

    /// <summary>The i-th standard basis vector of the concatenated parameter space.</summary>
    public static Tensor[] Unit(IReadOnlyList<long[]> shapes, ScalarType dtype, long index)
    {
        var e = Zeros(shapes, dtype);
        long offset = 0;
        foreach (var t in e)
        {
            long n = t.numel();
            if (index < offset + n)
            {
                using var flat = t.view(-1);
                using var entry = flat[index - offset];
                using var one = 1.ToScalar();
                entry.fill_(one);
                break;
            }
            offset += n;
        }
        return e;
    }

    /// <summary>All tensors flattened and concatenated into one vector.</summary>
    public static Tensor Flatten(IReadOnlyList<Tensor> a) => torch.cat(a.Select(t => t.reshape(-1)).ToArray());

    /// <summary>Splits a flat vector back into tensors of <paramref name="shapes"/>.</summary>
    public static Tensor[] Unflatten(Tensor flat, IReadOnlyList<long[]> shapes)
    {
        var result = new Tensor[shapes.Count];
        long offset = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            long n = shapes[i].Aggregate(1L, (x, y) => x * y);
            result[i] = flat.narrow(0, offset, n).reshape(shapes[i]);
            offset += n;
        }
        return result;
    }

    public static void Dispose(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }
}
