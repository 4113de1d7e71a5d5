using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Minima;

/// <summary>The loss of a <see cref="FitData"/>.</summary>
public enum FitLoss
{
    /// <summary>Squared error L = (1/2N) Σ_n ‖f(x_n) − y_n‖².</summary>
    Mse,
    /// <summary>Mean cross-entropy of the softmax of the outputs against integer labels.</summary>
    CrossEntropy,
}

/// <summary>
/// Inputs [N, d] and targets in float64: real targets [N, K] for <see cref="FitLoss.Mse"/>, int64 labels [N] for
/// <see cref="FitLoss.CrossEntropy"/>. Owns its tensors.
/// </summary>
public sealed class FitData : IDisposable
{
    public FitData(Tensor inputs, Tensor targets, FitLoss loss)
    {
        if (inputs.dim() != 2 || inputs.shape[0] < 1) throw new BasinException($"inputs must be [N,d] with N ≥ 1, got [{string.Join(",", inputs.shape)}]");
        if (loss == FitLoss.Mse && (targets.dim() != 2 || targets.shape[0] != inputs.shape[0]))
            throw new BasinException($"squared-error targets must be [N,K] with N = {inputs.shape[0]}, got [{string.Join(",", targets.shape)}]");
        if (loss == FitLoss.CrossEntropy && (targets.dim() != 1 || targets.shape[0] != inputs.shape[0]))
            throw new BasinException($"cross-entropy labels must be [N] with N = {inputs.shape[0]}, got [{string.Join(",", targets.shape)}]");
        // Copies detached from any dispose scope: the data owns them (Dispose frees them).
        using var x = inputs.to(float64);
        using var t = loss == FitLoss.Mse ? targets.to(float64) : targets.to(int64);
        Inputs = x.detach().clone().DetachFromDisposeScope();
        Targets = t.detach().clone().DetachFromDisposeScope();
        Loss = loss;
    }

    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public FitLoss Loss { get; }
    public long Count => Inputs.shape[0];
    public long InputSize => Inputs.shape[1];

    /// <summary>Squared-error data from row-major arrays: inputs [N, d], targets [N, K].</summary>
    public static FitData Regression(double[,] x, double[,] y)
    {
        using var inputs = torch.tensor(x, dtype: float64);
        using var targets = torch.tensor(y, dtype: float64);
        return new FitData(inputs, targets, FitLoss.Mse);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
