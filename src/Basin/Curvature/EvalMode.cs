using Basin.Flatness;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// Puts a model in evaluation mode (batch norm uses running statistics, as PyHessian does) and restores
/// its previous mode on dispose, so the loss is one fixed function of the parameters.
/// </summary>
sealed class EvalMode : IDisposable
{
    readonly nn.Module module;
    readonly bool wasTraining;

    public EvalMode(nn.Module module)
    {
        this.module = module;
        wasTraining = module.training;
        module.eval();
    }

    public void Dispose()
    {
        if (wasTraining) module.train();
    }
}
