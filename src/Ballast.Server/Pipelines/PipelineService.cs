using Ballast.Leasing;
using Ballast.Pipelines;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Pipelines;

/// <summary>
/// Every second, on the one replica holding the <c>pipelines</c> lease: starts the runs that schedules and dataset
/// triggers call for, then moves runs forward. When this replica dies, another takes the lease within 15 s and
/// requeues the steps that were running here (their attempts count; retries apply).
/// </summary>
public sealed partial class PipelineService(PipelineRunner runner, PipelineScheduler scheduler, LeaseStore leases, TimeProvider time, ILogger<PipelineService> logger) : BackgroundService
{
    public const string LeaseName = "pipelines";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    private readonly string _holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    private bool _held;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                if (await leases.TryAcquireAsync(LeaseName, _holder, LeaseDuration, stoppingToken).ConfigureAwait(false) is null)
                {
                    if (_held)
                    {
                        // Another replica took over (this one stalled past the lease): its runner requeues what ran here.
                        _held = false;
                        LogLeaseLost(logger);
                        await runner.AbandonAsync().ConfigureAwait(false);
                    }
                }
                else
                {
                    _held = true;
                    foreach (var run in await scheduler.TickAsync(stoppingToken).ConfigureAwait(false))
                    {
                        LogTriggered(logger, run.Pipeline, run.RunId, run.Trigger);
                    }

                    await runner.TickAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable; the state is in it, so the next tick carries on.
                LogFailed(logger, exception);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await runner.DisposeAsync().ConfigureAwait(false);
        await leases.ReleaseAsync(LeaseName, _holder, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Pipeline}: run {RunId} started by {Trigger}")]
    private static partial void LogTriggered(ILogger logger, string pipeline, string runId, string trigger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the pipelines lease; the steps running here are abandoned to the new holder")]
    private static partial void LogLeaseLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "A pipeline runner tick failed; retrying in a second")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
