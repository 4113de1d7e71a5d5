using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Basin.Tests.Data;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and a free port: answers GET /NAME with the bytes
/// registered for NAME, 404 otherwise, and closes each connection after one response.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IReadOnlyDictionary<string, byte[]> _files;
    private readonly Task _loop;
    private int _requests;

    public LoopbackHttpServer(IReadOnlyDictionary<string, byte[]> files)
    {
        _files = files;
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/data/";
        _loop = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }
    public int Requests => Volatile.Read(ref _requests);

    private async Task ServeAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            using (client) await AnswerAsync(client.GetStream());
        }
    }

    private async Task AnswerAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n") && await stream.ReadAsync(buffer) == 1)
            head.Append((char)buffer[0]);
        Interlocked.Increment(ref _requests);
        var path = head.ToString().Split(' ') is [_, var target, ..] ? target : "";
        var name = path.StartsWith("/data/") ? path["/data/".Length..] : path;
        var found = _files.TryGetValue(name, out var body);
        body ??= Encoding.ASCII.GetBytes("not here");
        var status = found ? "200 OK" : "404 Not Found";
        var header = $"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _listener.Stop();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
