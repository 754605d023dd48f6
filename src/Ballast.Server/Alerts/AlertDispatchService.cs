using Ballast.Alerts;
using Ballast.Leasing;
using Ballast.Pipelines;
using Ballast.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Alerts;

/// <summary>
/// Every second: publishes the alert gauges (on every replica, each is scraped; with whether each rule is evaluated), and on the one replica holding the
/// <c>alerts</c> lease queues the firing notifications that ended silences no longer hold back, then delivers the due
/// notifications of the outbox. Pipeline actions use the DI-registered <see cref="IPipelineLauncher"/>, looked up at delivery time.
/// </summary>
public sealed class AlertDispatchService : LeaseHoldingService
{
    public const string LeaseName = "alerts";
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    /// <summary>A receiver that takes longer than this is counted as a failed attempt and retried.</summary>
    public static readonly TimeSpan WebhookTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false }) { Timeout = WebhookTimeout };
    private readonly AlertStore _store;
    private readonly AlertDispatcher _dispatcher;
    private readonly AlertMetrics _metrics;

    private readonly AlertEvaluator _evaluator;
    private readonly AlertSourceChecks _sources;

    public AlertDispatchService(AlertStore store, AlertEvaluator evaluator, AlertSourceChecks sources, AlertDispatchOptions options, AlertMetrics metrics, LeaseStore leases, TimeProvider time, IServiceProvider services,
        ILogger<AlertDispatchService> logger)
        : base(leases, time, logger, LeaseName, TimeSpan.FromSeconds(1), LeaseDuration)
    {
        _store = store;
        _evaluator = evaluator;
        _sources = sources;
        _metrics = metrics;
        _dispatcher = new AlertDispatcher(store, _http, time, options, () => services.GetService<IPipelineLauncher>(), metrics);
    }

    protected override async Task EveryTickAsync(CancellationToken cancellationToken)
    {
        var rules = await _store.ListRulesAsync(cancellationToken).ConfigureAwait(false);
        var problems = await _sources.ProblemsAsync(rules.Select(rule => rule.Spec), cancellationToken).ConfigureAwait(false);
        _metrics.Publish(await _store.ListStatesAsync(cancellationToken: cancellationToken).ConfigureAwait(false), problems);
    }

    /// <summary>The outbox is in the database: what is not delivered now is delivered on a later tick.</summary>
    protected override async Task TickAsync(CancellationToken cancellationToken)
    {
        await _evaluator.NotifyUnsilencedAsync(cancellationToken).ConfigureAwait(false);
        await _dispatcher.DeliverDueAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
