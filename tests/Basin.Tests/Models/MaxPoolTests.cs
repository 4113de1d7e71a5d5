using Basin.Models;
using Basin.Tests.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

public class MaxPoolTests
{
    [Fact]
    public void WithoutAutogradItEqualsMaxPool2dBitForBitIncludingTies()
    {
        var generator = new torch.Generator(7);
        // ReLU zeros give many tied windows; rounding to halves gives tied positive maxima too.
        using var x = randn([5, 3, 8, 6], generator: generator).mul(2).round().div(2).relu();
        using var expected = nn.functional.max_pool2d(x, 2);
        using (no_grad())
        {
            using var got = MaxPool.TwoByTwo(x);
            Assert.Equal(expected.shape, got.shape);
            TensorAssert.BitIdentical(expected, got, "pooled");
        }
    }

    [Fact]
    public void OddSizesAndAutogradTakeMaxPool2d()
    {
        var generator = new torch.Generator(8);
        using var odd = randn([2, 2, 7, 5], generator: generator);
        using (no_grad())
        {
            using var got = MaxPool.TwoByTwo(odd);
            Assert.Equal(new long[] { 2, 2, 3, 2 }, got.shape);
            TensorAssert.BitIdentical(nn.functional.max_pool2d(odd, 2), got, "odd");
        }
        using var x = randn([2, 2, 4, 4], generator: generator).requires_grad_(true);
        using var y = MaxPool.TwoByTwo(x);
        y.sum().backward();
        // max_pool2d's gradient: exactly one 1 per window.
        Assert.Equal(16f, x.grad!.sum().item<float>());   // 2·2·2·2 windows
        Assert.Equal(16L, x.grad!.count_nonzero().item<long>());
    }

    [Fact]
    public void LeNet5GivesTheSameLogitsWithAndWithoutAutograd()
    {
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 3);
        using var input = randn([4, 1, 28, 28], generator: new torch.Generator(9));
        using var withGraph = model.forward(input);
        using (no_grad())
        {
            using var without = model.forward(input);
            TensorAssert.BitIdentical(withGraph.detach(), without, "logits");
        }
    }
}
