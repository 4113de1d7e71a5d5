namespace Basin.Training;

/// <summary>
/// A training method as three choices: what to minimise (objective terms, summed), how to get a
/// gradient of it (gradient procedure) and how to step (update rule, at a scheduled learning rate).
/// "SGD + FAM" or "SAM + weight decay" is one recipe, not a new trainer.
/// </summary>
public sealed record Recipe(
    IReadOnlyList<IObjectiveTerm> Objective,
    IGradientProcedure Gradient,
    IUpdateRule Update,
    double LearningRate,
    ILearningRateSchedule Schedule)
{
    public IReadOnlyList<IObjectiveTerm> Objective { get; init; } = Objective is { Count: > 0 } ? Objective
        : throw new OptionException("objective", "a recipe needs at least one objective term");
    public IGradientProcedure Gradient { get; init; } = Gradient ?? throw new ArgumentNullException(nameof(Gradient));
    public IUpdateRule Update { get; init; } = Update ?? throw new ArgumentNullException(nameof(Update));
    public double LearningRate { get; init; } = Check.Positive(LearningRate, "learningRate");
    public ILearningRateSchedule Schedule { get; init; } = Schedule ?? throw new ArgumentNullException(nameof(Schedule));

    /// <summary>Cross-entropy (+ weight decay α/2·‖w‖² when α &gt; 0), plain backprop, SGD.</summary>
    public static Recipe Sgd(double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0,
        ILearningRateSchedule? schedule = null) =>
        new(Terms(weightDecay), new Backpropagation(), new Sgd(momentum, nesterov), learningRate, schedule ?? new ConstantSchedule());

    /// <summary>Cross-entropy (+ weight decay α/2·‖w‖² when α &gt; 0), plain backprop, Adam.</summary>
    public static Recipe Adam(double learningRate, double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 0,
        ILearningRateSchedule? schedule = null) =>
        new(Terms(weightDecay), new Backpropagation(), new Adam(beta1, beta2), learningRate, schedule ?? new ConstantSchedule());

    /// <summary>This recipe with one more objective term.</summary>
    public Recipe With(IObjectiveTerm term) => this with { Objective = [.. Objective, term] };

    /// <summary>This recipe with another gradient procedure (e.g. SAM).</summary>
    public Recipe With(IGradientProcedure gradient) => this with { Gradient = gradient };

    /// <summary>This recipe with another learning-rate schedule.</summary>
    public Recipe With(ILearningRateSchedule schedule) => this with { Schedule = schedule };

    /// <summary>A one-line description, e.g. "cross_entropy + weight_decay | backprop | sgd(momentum 0.9) lr 0.1 cosine".</summary>
    public string Describe() =>
        $"{string.Join(" + ", Objective.Select(t => t.Name))} | {Gradient.Name} | {Update.Name} lr {LearningRate} {Schedule}";

    static IReadOnlyList<IObjectiveTerm> Terms(double weightDecay) =>
        weightDecay != 0 ? [new CrossEntropy(), new WeightDecay(weightDecay)] : [new CrossEntropy()];
}
