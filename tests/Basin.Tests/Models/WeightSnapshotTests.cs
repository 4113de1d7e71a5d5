using Basin.Models;
using Basin.Tests.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

public sealed class WeightSnapshotTests
{
    [Fact]
    public void Restore_puts_back_every_parameter_bit_for_bit()
    {
        using var model = ModelSpec.Create("mlp:4", [3], 2, seed: 1);
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        using var snapshot = WeightSnapshot.OfParameters(model);
        using var noise = 0.5.ToScalar();
        using (no_grad()) foreach (var p in model.parameters()) p.add_(ones_like(p), noise);
        Assert.Equal(before[0].sum().ToDouble() + 0.5 * before[0].numel(), model.parameters().First().sum().ToDouble(), 5);
        snapshot.Restore();
        int i = 0;
        foreach (var p in model.parameters()) TensorAssert.BitIdentical(before[i++], p, "parameter");
        Assert.Equal(before.Length, snapshot.Values.Count);
    }

    [Fact]
    public void A_snapshot_of_some_tensors_restores_only_those()
    {
        using var model = ModelSpec.Create("mlp:4", [3], 2, seed: 1);
        var ps = model.parameters().ToArray();
        using var firstBefore = ps[0].detach().clone();
        using var lastBefore = ps[^1].detach().clone();
        using var snapshot = WeightSnapshot.Of([ps[0]]);
        using (no_grad()) { ps[0].zero_(); ps[^1].zero_(); }
        snapshot.Restore();
        TensorAssert.BitIdentical(firstBefore, ps[0]);
        Assert.Equal(0.0, ps[^1].abs().sum().ToDouble());
    }
}
