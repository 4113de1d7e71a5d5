namespace Basin.Data;

/// <summary>
/// Asks <see cref="ImageDatasets.Load"/> to download data files that are not found locally.
/// Each file is fetched from <c>BaseUrl/FILE</c> and kept only if its SHA-256 equals the one given
/// in <see cref="Sha256ByFile"/> (keys are file names such as "t10k-images-idx3-ubyte.gz",
/// values lower- or upper-case hex). Nothing is downloaded unless these options are passed.
/// </summary>
public sealed record DownloadOptions(string BaseUrl, IReadOnlyDictionary<string, string> Sha256ByFile)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public IProgress<DownloadProgress>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>Bytes received so far for one file; <see cref="TotalBytes"/> is null when the server does not say.</summary>
public sealed record DownloadProgress(string File, long Bytes, long? TotalBytes);
