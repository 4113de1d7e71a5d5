using Basin.Runs;
using Basin.Training;
using Basin.Training.Methods;
using Basin.Training.PerExample;
using Xunit;

namespace Basin.Tests.Methods;

/// <summary>How a run's spec maps --method and its options onto the three recipe stages.</summary>
public class RecipeForTests
{
    [Fact]
    public void MethodsMapToTheirStageWithThePapersDefaults()
    {
        var sam = TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam" });
        Assert.Equal(new Sam(0.05), sam.Gradient);
        Assert.Equal(new Asam(0.5, 0.01), TrainingJob.RecipeFor(new TrainJobSpec { Method = "asam" }).Gradient);
        var fam = TrainingJob.RecipeFor(new TrainJobSpec { Method = "fam", FamDetached = true });
        Assert.Equal(new Fam(0.1, null, FamCurvature.Detached), fam.Objective.OfType<Fam>().Single());
        var saf = TrainingJob.RecipeFor(new TrainJobSpec { Method = "saf", Epochs = 10 }).Objective.OfType<Saf>().Single();
        Assert.Equal((0.3, 5.0, 2, 3), (saf.Lambda, saf.Tau, saf.Lag, saf.StartEpoch));
        var mesa = TrainingJob.RecipeFor(new TrainJobSpec { Method = "mesa", BatchSize = 100 }, trainCount: 5000).Objective.OfType<Mesa>().Single();
        Assert.Equal((0.98, 0.8), (mesa.Decay, mesa.Lambda));   // the average spans one epoch of 50 batches
        Assert.Equal(new Winsorized(3), TrainingJob.RecipeFor(new TrainJobSpec { Method = "winsorized", WinsorC = 3 }).Gradient);
        Assert.IsType<M3>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "m3" }).Gradient);
        Assert.IsType<Rm3>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "rm3" }).Gradient);
        Assert.IsType<Backpropagation>(TrainingJob.RecipeFor(new TrainJobSpec()).Gradient);
    }

    [Fact]
    public void SgldKeepsLrAsTheStepOnTheMeanLoss()
    {
        var spec = new TrainJobSpec { Method = "sgld", LearningRate = 0.05, Epochs = 4, BatchSize = 100, Temperature = 0.5 };
        var recipe = TrainingJob.RecipeFor(spec, trainCount: 1000);   // 10 batches × 4 epochs = 40 updates
        var sgld = Assert.IsType<Sgld>(recipe.Update);
        Assert.Equal(new Sgld(0.5, 1000, BurnIn: 20, Thin: 2), sgld);
        Assert.Equal(2 * 0.05 / 1000, recipe.LearningRate);
    }

    [Fact]
    public void MethodsCombineWithPlusAndAtMostOneGradientProcedure()
    {
        var r = TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam+fam+saf" });
        Assert.Equal(new Sam(0.05), r.Gradient);
        Assert.Equal(["cross_entropy", "fam", "saf"], r.Objective.Select(t => t.Name));
        Assert.IsType<Sgld>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "sgld+mesa" }).Update);
        Assert.Contains("choose one", Assert.Throws<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "winsorized+rm3" })).Message);
        Assert.Contains("twice", Assert.Throws<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "fam+fam" })).Message);
        Assert.Contains("unknown method 'sharpness'", Assert.Throws<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam+sharpness" })).Message);
    }
}
