using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Symbolic;

/// <summary>What follows the encoder in a <see cref="FewShotNetwork"/>.</summary>
public enum FewShotHead
{
    /// <summary>ReLU, then Linear(D, 1): the plain encoder.</summary>
    Baseline,

    /// <summary>
    /// ReLU, three Linear(D, D) with ReLU between, then Linear(D, 1): the baseline with the G-SSNN's extra 3·D² weights.
    /// </summary>
    MatchedCapacity,

    /// <summary>A <see cref="GraphStructured"/> module on the encoder's features, with one output.</summary>
    Graph,
}

/// <summary>
/// A small CNN encoder for 28×28 images (conv 1→16 5×5, ReLU, 2×2 max pool, conv 16→32 5×5, ReLU, 2×2 max pool,
/// Linear(512, D)) followed by a <see cref="FewShotHead"/>; one logit (binary tasks).
/// </summary>
public sealed class FewShotNetwork : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1,
        conv2;
    readonly Linear features;
    readonly ModuleList<Linear> mlp;
    readonly Linear? output;
    readonly GraphStructured? graph;

    public FewShotNetwork(FewShotHead head, int dimension, ElementGraph? program = null, GraphModuleOptions? options = null)
        : base(nameof(FewShotNetwork))
    {
        if ((head == FewShotHead.Graph) != (program is not null))
            throw new BasinException("a graph head needs a graph, and only it");
        Head = head;
        conv1 = nn.Conv2d(1, 16, 5);
        conv2 = nn.Conv2d(16, 32, 5);
        features = nn.Linear(512, dimension);
        mlp = new ModuleList<Linear>(
            head == FewShotHead.MatchedCapacity ? Enumerable.Range(0, 3).Select(_ => nn.Linear(dimension, dimension)).ToArray() : []
        );
        if (head == FewShotHead.Graph)
            graph = new GraphStructured(program!, dimension, 1, options);
        else
            output = nn.Linear(dimension, 1);
        RegisterComponents();
    }

    public FewShotHead Head { get; }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != 1 || input.shape[2] != 28 || input.shape[3] != 28)
            throw new BasinException($"the few-shot encoder expects images [N,1,28,28], got [{string.Join(",", input.shape)}]");
        using var scope = torch.NewDisposeScope();
        var x = MaxPool.TwoByTwo(nn.functional.relu(conv1.forward(input)));
        x = MaxPool.TwoByTwo(nn.functional.relu(conv2.forward(x)));
        var z = features.forward(x.flatten(1));
        if (graph is not null)
            return graph.forward(z).squeeze(1).MoveToOuterDisposeScope();
        var h = nn.functional.relu(z);
        foreach (var layer in mlp)
            h = nn.functional.relu(layer.forward(h));
        return output!.forward(h).squeeze(1).MoveToOuterDisposeScope();
    }
}
