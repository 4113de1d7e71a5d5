using Basin.Training;
using Xunit;

namespace Basin.Tests.Training;

public class ScheduleTests
{
    // 10 steps per epoch, 100 steps in the run.
    static double At(ILearningRateSchedule s, long step) => s.At(0.1, new ScheduleClock(step, 10, 100));

    [Fact]
    public void ConstantIsTheBaseRate()
    {
        Assert.Equal(0.1, At(new ConstantSchedule(), 0));
        Assert.Equal(0.1, At(new ConstantSchedule(), 99));
    }

    [Fact]
    public void StepDecaysEveryKEpochs()
    {
        var s = new StepSchedule(Gamma: 0.5, EveryEpochs: 3);
        Assert.Equal(0.1, At(s, 0));
        Assert.Equal(0.1, At(s, 29));          // epoch 2
        Assert.Equal(0.05, At(s, 30));         // epoch 3
        Assert.Equal(0.05, At(s, 59));
        Assert.Equal(0.025, At(s, 60));
        Assert.Equal(0.1 * 0.125, At(s, 99));  // epoch 9
    }

    [Fact]
    public void CosineFallsFromTheBaseRateToTheFloor()
    {
        Assert.Equal(0.1, At(new CosineSchedule(), 0));
        Assert.Equal(0.05, At(new CosineSchedule(), 50), 15);
        Assert.Equal(0.1 * (1 + Math.Cos(Math.PI * 0.25)) / 2, At(new CosineSchedule(), 25), 15);
        Assert.Equal(0.1 * (1 + Math.Cos(Math.PI * 0.99)) / 2, At(new CosineSchedule(), 99), 15);
        Assert.Equal(0.01 + 0.09 * 0.5, At(new CosineSchedule(Floor: 0.01), 50), 15);
        Assert.Equal(0.01, new CosineSchedule(Floor: 0.01).At(0.1, new ScheduleClock(100, 10, 100)), 15);
    }

    [Fact]
    public void WarmupRampsLinearlyThenHandsOver()
    {
        var s = new WarmupSchedule(4, new StepSchedule(0.1, 1));
        Assert.Equal(0.025, At(s, 0), 15);
        Assert.Equal(0.05, At(s, 1), 15);
        Assert.Equal(0.075, At(s, 2), 15);
        Assert.Equal(0.1, At(s, 3), 15);
        Assert.Equal(0.1, At(s, 9), 15);
        Assert.Equal(0.01, At(s, 10), 15);
        var c = new WarmupSchedule(10, new CosineSchedule());
        Assert.Equal(0.1 * (1 + Math.Cos(Math.PI * 0.04)) / 2 * 0.5, At(c, 4), 15);
        Assert.Equal(0.1 * (1 + Math.Cos(Math.PI * 0.5)) / 2, At(c, 50), 15);
    }

    [Fact]
    public void BadStepIntervalIsAUserError()
    {
        // Checked when the schedule is built (an OptionException, a BasinException naming the setting).
        var e = Assert.ThrowsAny<BasinException>(() => At(new StepSchedule(0.5, 0), 1));
        Assert.Contains("stepEpochs must be at least 1", e.Message);
    }
}
