using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// Redraws the initial weights of every Linear and Conv2d layer from a private generator, with PyTorch's
/// defaults (weight: kaiming_uniform(a=√5), i.e. U(±1/√fan_in); bias: U(±1/√fan_in)) in construction order.
/// The global generator is shared by every thread, so a model built while another thread draws random
/// numbers would otherwise depend on timing; with a private generator seeded s, the weights equal those
/// PyTorch gives after torch.manual_seed(s) and building the same layers.
/// </summary>
static class DefaultInit
{
    public static void Reset(nn.Module model, long seed)
    {
        using var generator = new torch.Generator(unchecked((ulong)seed));
        using var noGrad = torch.no_grad();
        // named_modules() follows registration order, which is field (= construction) order in Basin's models.
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    Reset(linear.weight!, linear.bias, generator);
                    break;
                case Conv2d conv:
                    Reset(conv.weight, conv.bias, generator);
                    break;
            }
        }
    }

    static void Reset(Tensor weight, Tensor? bias, torch.Generator generator)
    {
        long fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        // The bound is computed exactly as torch.nn.init.kaiming_uniform_ does, so float rounding matches too.
        double a = Math.Sqrt(5);
        double gain = Math.Sqrt(2.0 / (1 + a * a));
        double bound = Math.Sqrt(3.0) * (gain / Math.Sqrt(fanIn));
        weight.uniform_(-bound, bound, generator);
        if (bias is not null)
        {
            double biasBound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            bias.uniform_(-biasBound, biasBound, generator);
        }
    }
}
