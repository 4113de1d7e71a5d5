using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// The (squared) path-norm of a ReLU network (Neyshabur et al. 2015; Jiang et al. 2020): the sum over all paths
/// from an input unit or a bias to an output of the product of the squared weights on the path. It is one forward
/// pass of the network with every parameter squared on an all-ones input, summed over the outputs: with
/// non-negative weights and inputs every ReLU passes its input, so the pass adds up exactly the path products.
/// For LeNet-5 the max-pooling of that pass picks the largest window value, as in Jiang et al.'s code.
/// Unchanged by neuron-wise rescalings: each path through a unit carries its factor a² and 1/a².
/// </summary>
public static class PathNorm
{
    public static double Compute(Classifier model, long[] exampleShape)
    {
        if (!model.IsReluNetwork)
            throw new BasinException($"path-norm is defined for ReLU networks (Classifier.IsReluNetwork), not {model.Spec}");
        using var squared = Reparametrization.Copy(model);
        using var noGrad = torch.no_grad();
        foreach (var p in squared.parameters()) p.mul_(p);
        squared.eval();
        using var scope = torch.NewDisposeScope();
        var ones = torch.ones([1, .. exampleShape], squared.parameters().First().dtype);
        return squared.forward(ones).to_type(ScalarType.Float64).sum().ToDouble();
    }
}
