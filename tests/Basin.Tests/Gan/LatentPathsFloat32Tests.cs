using Basin.Gan;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Gan;

/// <summary>Trained GANs are float32: scores and energies must be read as doubles without a dtype error.</summary>
public class LatentPathsFloat32Tests
{
    [Fact]
    public void ScoresAndGeodesicsWorkOnFloat32Networks()
    {
        using var generator = new MlpGenerator(hiddenWidths: [8], seed: 0);
        using var critic = new MlpCritic(hiddenWidths: [8], seed: 1);
        using var z0 = torch.tensor(new[] { -1f, 0.5f });
        using var z1 = torch.tensor(new[] { 1f, -0.5f });
        using var line = LatentPaths.Linear(z0, z1, 4);
        var scores = LatentPaths.Score(generator.forward, line, critic.forward);
        using (torch.no_grad())
        using (var s = critic.forward(generator.forward(line)))
        {
            Assert.Equal(s.min().item<float>(), scores.CriticMin, 6);
            Assert.Equal(s.mean().item<float>(), scores.CriticMean, 6);
        }
        var weight = new RealismWeight(Reference: 0, Scale: 1, Beta: 1);
        var geodesic = LatentPaths.RealismWeightedGeodesic(generator.forward, critic.forward, weight, z0, z1, new GeodesicConfig(4, 10));
        using (geodesic.Path)
        {
            Assert.Equal(torch.ScalarType.Float32, geodesic.Path.dtype);
            Assert.True(geodesic.FinalEnergy <= geodesic.InitialEnergy);
            Assert.Equal(LatentPaths.Energy(generator.forward, line, critic.forward, weight), geodesic.InitialEnergy, 12);
        }
    }
}
