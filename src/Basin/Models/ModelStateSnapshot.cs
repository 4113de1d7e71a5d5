using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// Copies a model's state (parameters and buffers) and puts it in evaluation mode; on dispose the values and the
/// train/eval mode are put back. For code that loads other weights into the caller's model for a while (ensemble
/// members, SGLD samples) and must hand it back unchanged.
/// </summary>
public sealed class ModelStateSnapshot : IDisposable
{
    readonly nn.Module _model;
    readonly WeightSnapshot _saved;
    readonly bool _wasTraining;

    public ModelStateSnapshot(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _saved = WeightSnapshot.OfState(model);
        _wasTraining = model.training;
        model.eval();
    }

    public void Dispose()
    {
        _saved.Restore();
        _saved.Dispose();
        _model.train(_wasTraining);
    }
}
