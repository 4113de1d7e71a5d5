using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>The objective at one point: the total (a scalar with its graph), and the forward pass it came from.</summary>
public sealed record ObjectiveValue(Tensor Total, Tensor Logits, Tensor Features);
