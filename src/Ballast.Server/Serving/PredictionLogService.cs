using Ballast.Serving;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Closes the prediction log once the host has stopped, that is after the web server has drained every in-flight
/// request (<see cref="IHostedLifecycleService.StoppedAsync"/> runs after all hosted services stopped): the last records
/// are written and rolled into segments. Also publishes the log's counters to /metrics.
/// </summary>
public sealed class PredictionLogService : IHostedLifecycleService
{
    private static readonly Gauge Queued = Metrics.CreateGauge("ballast_prediction_log_queue_depth", "Prediction records waiting for the write-ahead file.");

    public PredictionLogService(PredictionLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        Log = log;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            var stats = Log.Stats;
            Queued.Set(stats.Queued);
            Written.IncTo(stats.Written);
            Dropped.IncTo(stats.Dropped);
            Segments.IncTo(stats.Segments);
        });
    }

    private static Counter Written { get; } = Metrics.CreateCounter("ballast_prediction_log_records_total", "Prediction records written to the write-ahead file.");

    private static Counter Dropped { get; } = Metrics.CreateCounter("ballast_prediction_log_dropped_total", "Prediction records shed because the log stayed full (back-pressure).");

    private static Counter Segments { get; } = Metrics.CreateCounter("ballast_prediction_log_segments_total", "Parquet segments written to the artifact store.");

    private PredictionLog Log { get; }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken) => await Log.DisposeAsync().ConfigureAwait(false);
}
