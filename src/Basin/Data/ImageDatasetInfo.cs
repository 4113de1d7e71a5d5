namespace Basin.Data;

/// <summary>What Basin knows about one MNIST-family data set.</summary>
/// <param name="Name">Basin's name, also the folder name under BASIN_DATA, the Debian root and the cache.</param>
/// <param name="TorchvisionFolder">torchvision's folder name (its files lie in FOLDER/raw).</param>
/// <param name="DebianPackage">The Debian package installing the files, if there is one.</param>
public sealed record ImageDatasetInfo(string Name, string TorchvisionFolder, string? DebianPackage, int ClassCount);
