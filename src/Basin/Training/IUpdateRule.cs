namespace Basin.Training;

/// <summary>
/// How a gradient becomes a step (SGD, Adam, ...). The rule is an immutable description;
/// <see cref="Bind"/> creates the per-run <see cref="IUpdater"/> that holds its state
/// (momentum buffers, moments, step count) as named tensors that go into checkpoints.
/// </summary>
public interface IUpdateRule
{
    string Name { get; }

    IUpdater Bind(IReadOnlyList<NamedParameter> parameters);
}

/// <summary>An update rule bound to a model's parameters.</summary>
public interface IUpdater : IStatefulStage, IDisposable
{
    /// <summary>Updates every parameter in place from its .grad (parameters without a gradient are left alone).</summary>
    void Apply(double learningRate);
}
