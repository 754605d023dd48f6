using System.Collections.Concurrent;
using System.Text.Json;
using Ballast.Alerts;
using Ballast.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ballast.Cli.Demo;

/// <summary>An alert notification as the demo's receiver got it, with whether its signature checked out.</summary>
internal sealed record ReceivedAlert(string Status, string Rule, string Metric, double Value, bool SignatureValid, DateTimeOffset ReceivedAt);

/// <summary>
/// The HTTP listener the demo's alert rule posts to, on a loopback port of its own, as a team's alert receiver would be:
/// it checks each notification's HMAC signature against the shared secret and keeps what it got.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedAlert> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedAlert> Received => _received;

    public static async Task<WebhookReceiver> StartAsync(string secret, TimeProvider time, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/alerts", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
            var body = buffer.ToArray();
            var signed = long.TryParse(http.Request.Headers[WebhookSignature.TimestampHeader], out var timestamp)
                && WebhookSignature.Verify(secret, timestamp, body, http.Request.Headers[WebhookSignature.SignatureHeader]);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            receiver._received.Enqueue(new ReceivedAlert(
                root.GetProperty("status").GetString() ?? "", root.GetProperty("rule").GetString() ?? "",
                root.GetProperty("metric").GetString() ?? "", root.GetProperty("value").GetDouble(), signed, time.GetUtcNow()));
            return signed ? Results.NoContent() : Results.Unauthorized();
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        receiver.Url = new Uri(new Uri(app.BoundAddresses()[0]), "/alerts");
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
