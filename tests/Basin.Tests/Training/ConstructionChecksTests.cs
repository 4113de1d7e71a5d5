using Basin.Experiments.Training;
using Basin.Training;
using Xunit;

namespace Basin.Tests.Training;

/// <summary>
/// The training loop's pieces check their settings when they are built (not when bound or at every step), each naming the
/// setting by its library key; the job adds no rules of its own.
/// </summary>
public class ConstructionChecksTests
{
    public static TheoryData<string, string> BadPieces => new()
    {
        { "momentum", "momentum must be in [0, 1), got 1" },
        { "dampening", "dampening must be a finite number ≥ 0, got -1" },
        { "nesterov", "Nesterov momentum needs a momentum > 0" },
        { "beta1", "beta1 must be in [0, 1), got 1" },
        { "alpha", "alpha must be in [0, 1), got 1.5" },
        { "stepEpochs", "stepEpochs must be at least 1, got 0" },
        { "warmupSteps", "warmupSteps must be at least 0, got -3" },
        { "weightDecay", "weightDecay must be a finite number ≥ 0, got NaN" },
        { "learningRate", "learningRate must be a finite number > 0, got 0" },
        { "batch size", "batch size must be at least 1, got 0" },
        { "threads", "threads must be at least 1, got 0" },
    };

    [Theory]
    [MemberData(nameof(BadPieces))]
    public void ABadSettingIsRefusedWhenThePieceIsBuiltNamingIt(string parameter, string message)
    {
        Action build = parameter switch
        {
            "momentum" => () => _ = new Sgd(1.0),
            "dampening" => () => _ = new Sgd(0.9, Dampening: -1),
            "nesterov" => () => _ = new Sgd(0, Nesterov: true),
            "beta1" => () => _ = new Adam(Beta1: 1.0),
            "alpha" => () => _ = new RmsProp(Alpha: 1.5),
            "stepEpochs" => () => _ = new StepSchedule(0.1, 0),
            "warmupSteps" => () => _ = new WarmupSchedule(-3, new ConstantSchedule()),
            "weightDecay" => () => _ = new WeightDecay(double.NaN),
            "learningRate" => () => _ = Recipe.Sgd(0),
            "batch size" => () => _ = new TrainingConfig(1, 0, 0),
            "threads" => () => _ = new TrainingConfig(1, 10, 0) { Threads = 0 },
            _ => throw new ArgumentOutOfRangeException(nameof(parameter)),
        };
        var e = Assert.Throws<OptionException>(build);
        Assert.Equal(parameter, e.Parameter);
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void GoodSettingsBuildAndKeepTheirValues()
    {
        var sgd = new Sgd(0.9, Nesterov: true);
        Assert.Equal(0.9, sgd.Momentum);
        Assert.True(sgd.Nesterov);
        var warm = new WarmupSchedule(5, new StepSchedule(0.5, 2));
        Assert.Equal(5, warm.Steps);
        Assert.Equal(0.1 * 0.5 * 3 / 5, warm.At(0.1, new ScheduleClock(2, 1, 10)), 15);
        var config = new TrainingConfig(3, 10, 0) { Threads = 2, CheckpointEveryBatches = 0 };
        Assert.Equal(2, config.Threads);
    }

    [Theory]
    [InlineData("momentum", 1.5, "momentum must be in [0, 1)")]
    [InlineData("weightDecay", -0.1, "weightDecay must be a finite number ≥ 0")]
    [InlineData("learningRate", double.PositiveInfinity, "learningRate must be a finite number > 0")]
    [InlineData("stepEpochs", 0, "stepEpochs must be at least 1")]
    public void TheJobReportsThePiecesOwnCheck(string setting, double value, string message)
    {
        var spec = setting switch
        {
            "momentum" => new TrainJobSpec { Momentum = value },
            "weightDecay" => new TrainJobSpec { WeightDecay = value },
            "learningRate" => new TrainJobSpec { LearningRate = value },
            _ => new TrainJobSpec { Schedule = "step", StepEpochs = (int)value },
        };
        var e = Assert.Throws<OptionException>(() => TrainingJob.RecipeFor(spec));
        Assert.Equal(setting, e.Parameter);
        Assert.StartsWith(message, e.Message);
    }
}
