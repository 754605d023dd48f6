using Ballast.Alerts;
using Ballast.Leasing;
using Ballast.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Alerts;

/// <summary>
/// Every second: publishes the alert gauges (on every replica, each is scraped), and on the one replica holding the
/// <c>alerts</c> lease delivers the due notifications of the outbox. Pipeline actions use the DI-registered
/// <see cref="IPipelineLauncher"/>, looked up at delivery time.
/// </summary>
public sealed partial class AlertDispatchService : BackgroundService
{
    public const string LeaseName = "alerts";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    /// <summary>A receiver that takes longer than this is counted as a failed attempt and retried.</summary>
    public static readonly TimeSpan WebhookTimeout = TimeSpan.FromSeconds(10);

    private readonly string _holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false }) { Timeout = WebhookTimeout };
    private readonly AlertStore _store;
    private readonly AlertDispatcher _dispatcher;
    private readonly AlertMetrics _metrics;
    private readonly LeaseStore _leases;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertDispatchService> _logger;

    public AlertDispatchService(AlertStore store, AlertDispatchOptions options, AlertMetrics metrics, LeaseStore leases, TimeProvider time, IServiceProvider services, ILogger<AlertDispatchService> logger)
    {
        _store = store;
        _metrics = metrics;
        _leases = leases;
        _time = time;
        _logger = logger;
        _dispatcher = new AlertDispatcher(store, _http, time, options, () => services.GetService<IPipelineLauncher>(), metrics);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                _metrics.Publish(await _store.ListStatesAsync(cancellationToken: stoppingToken).ConfigureAwait(false));
                if (await _leases.TryAcquireAsync(LeaseName, _holder, LeaseDuration, stoppingToken).ConfigureAwait(false) is not null)
                {
                    await _dispatcher.DeliverDueAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The outbox is in the database: what was not delivered now is delivered on a later tick.
                LogFailed(_logger, exception);
            }
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An alert dispatch tick failed; retrying in a second")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
