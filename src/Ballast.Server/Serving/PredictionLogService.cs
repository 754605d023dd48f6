using Ballast.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Publishes this replica's prediction log watermark every few seconds (so monitors on the lease holder wait for
/// records still in this replica's write-ahead file), and closes the log once the host has stopped, that is after the
/// web server has drained every in-flight request (<see cref="IHostedLifecycleService.StoppedAsync"/> runs after all
/// hosted services stopped): the last records are written and rolled into segments, and the watermark is withdrawn.
/// Also publishes the log's counters to /metrics.
/// </summary>
public sealed partial class PredictionLogService : IHostedLifecycleService, IDisposable
{
    public static TimeSpan PublishInterval { get; } = TimeSpan.FromSeconds(5);

    private static readonly Gauge Queued = Metrics.CreateGauge("ballast_prediction_log_queue_depth", "Prediction records waiting for the write-ahead file.");

    private readonly PredictionLogWatermarks _watermarks;
    private readonly TimeProvider _time;
    private readonly ILogger<PredictionLogService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public PredictionLogService(PredictionLog log, PredictionLogWatermarks watermarks, TimeProvider time, ILogger<PredictionLogService> logger)
    {
        ArgumentNullException.ThrowIfNull(log);
        Log = log;
        _watermarks = watermarks;
        _time = time;
        _logger = logger;
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

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = PublishLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await Log.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _watermarks.RemoveAsync(Log.Instance, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The row goes stale and stops counting after PredictionLogWatermarks.Liveness.
            LogPublishFailed(_logger, exception);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PublishInterval, _time);
        try
        {
            do
            {
                try
                {
                    await _watermarks.PublishAsync(Log.Instance, Log.Watermark, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The last published mark stands (monitors wait a little longer); the next tick tries again.
                    LogPublishFailed(_logger, exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing the prediction log watermark failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);
}
