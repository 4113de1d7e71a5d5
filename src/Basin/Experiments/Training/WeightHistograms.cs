using Basin.Native;
using TorchSharp;

namespace Basin.Experiments.Training;

/// <summary>Writes one TensorBoard histogram per parameter of a module (tag PREFIX + parameter name) at one step.</summary>
public static class WeightHistograms
{
    public static void Add(TorchSharp.Modules.SummaryWriter writer, torch.nn.Module model, string prefix, int step)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(model);
        using var scope = torch.NewDisposeScope();   // the copies and the histogram's own temporaries
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var values = parameter.detach().cpu();
            // TensorBoard cannot draw a histogram of non-finite values (a diverging run): such a parameter is left out.
            if (values.numel() == 0 || !values.isfinite().all().item<bool>()) continue;
            // add_histogram makes Scalars inside TorchSharp that nothing keeps alive: no collection may run meanwhile.
            NoGcRegion.Run(() => writer.add_histogram(prefix + name, values, step));
        }
    }
}
