using System.Security.Cryptography;
using Basin.IO;

namespace Basin.Data;

/// <summary>
/// Fetches missing IDX files over HTTP(S). Each file is written through a temporary file and
/// renamed into place only after its SHA-256 matched, so a failed or tampered download leaves nothing.
/// </summary>
internal static class DatasetDownloader
{
    public static void DownloadMissing(string folder, DownloadOptions options)
    {
        if (!Uri.TryCreate(options.BaseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri)
            || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
            throw new BasinException($"download base URL '{options.BaseUrl}' is not an absolute http or https URL");

        // Check every missing file has a usable hash before fetching any of them.
        var plan = IdxFileNames.All.Where(baseName => IdxFileNames.Find(folder, baseName) is null).Select(baseName =>
        {
            var file = options.Sha256ByFile.ContainsKey(baseName + ".gz") ? baseName + ".gz"
                : options.Sha256ByFile.ContainsKey(baseName) ? baseName
                : throw new BasinException($"download: no SHA-256 given for {baseName}.gz (or {baseName})");
            var expected = options.Sha256ByFile[file].Trim().ToLowerInvariant();
            if (expected.Length != 64 || !expected.All(Uri.IsHexDigit))
                throw new BasinException($"download: SHA-256 for {file} must be 64 hex digits, got '{options.Sha256ByFile[file]}'");
            return (file, expected);
        }).ToList();

        foreach (var (file, expected) in plan)
            Fetch(new Uri(baseUri, file), Path.Combine(folder, file), expected, options);
    }

    private static void Fetch(Uri uri, string target, string expected, DownloadOptions options)
    {
        try
        {
            using var client = new HttpClient { Timeout = options.Timeout };
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, options.Cancellation);
            if (!response.IsSuccessStatusCode)
                throw new BasinException($"{uri}: download failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            var total = response.Content.Headers.ContentLength;
            AtomicFile.Write(target, output =>
            {
                using var body = response.Content.ReadAsStream(options.Cancellation);
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                long received = 0;
                int read;
                while ((read = body.Read(buffer)) > 0)
                {
                    options.Cancellation.ThrowIfCancellationRequested();
                    sha.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                    received += read;
                    options.Progress?.Report(new DownloadProgress(Path.GetFileName(target), received, total));
                }
                var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (actual != expected)
                    throw new BasinException($"{uri}: SHA-256 mismatch: expected {expected}, got {actual}; the download was discarded");
            });
        }
        catch (HttpRequestException e)
        {
            throw new BasinException($"{uri}: download failed: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!options.Cancellation.IsCancellationRequested)
        {
            throw new BasinException($"{uri}: download timed out after {options.Timeout}", e);
        }
        catch (IOException e)
        {
            throw new BasinException($"{uri}: download failed: {e.Message}", e);
        }
    }
}
