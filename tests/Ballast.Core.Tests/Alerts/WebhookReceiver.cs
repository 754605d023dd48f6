using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Ballast.Tests.Alerts;

/// <summary>A real HTTP receiver on a loopback port (HttpListener): records each request and answers with scripted status codes (then 200).</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _answers;
    private readonly Task _loop;

    public WebhookReceiver(params int[] answers) : this(FreePort(), answers)
    {
    }

    private WebhookReceiver(int port, int[] answers)
    {
        Port = port;
        _answers = new ConcurrentQueue<int>(answers);
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>A receiver on a given port (one that was down a moment ago), answering 200.</summary>
    public static WebhookReceiver OnPort(int port) => new(port, []);

    public string Url => $"http://127.0.0.1:{Port}/hook";

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Requests.Enqueue(new ReceivedRequest(context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase), body.ToArray()));
            context.Response.StatusCode = _answers.TryDequeue(out var status) ? status : 200;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}

internal sealed record ReceivedRequest(IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}
