using Ballast.Leasing;
using Ballast.Pipelines;
using Ballast.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Pipelines;

/// <summary>
/// Every second, on the one replica holding the <c>pipelines</c> lease: starts the runs that schedules and dataset
/// triggers call for, then moves runs forward. When this replica dies, another takes the lease within 15 s and
/// requeues the steps that were running here (their attempts count; retries apply).
/// </summary>
public sealed partial class PipelineService(PipelineRunner runner, PipelineScheduler scheduler, LeaseStore leases, TimeProvider time, ILogger<PipelineService> logger)
    : LeaseHoldingService(leases, time, logger, LeaseName, TimeSpan.FromSeconds(1), LeaseDuration)
{
    public const string LeaseName = "pipelines";
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    protected override async Task TickAsync(CancellationToken cancellationToken)
    {
        foreach (var run in await scheduler.TickAsync(cancellationToken).ConfigureAwait(false))
        {
            LogTriggered(logger, run.Pipeline, run.RunId, run.Trigger);
        }

        await runner.TickAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Another replica took over (this one stalled past the lease): its runner requeues what ran here.</summary>
    protected override Task LeaseLostAsync() => runner.AbandonAsync();

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await runner.DisposeAsync().ConfigureAwait(false);
        await ReleaseLeaseAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Pipeline}: run {RunId} started by {Trigger}")]
    private static partial void LogTriggered(ILogger logger, string pipeline, string runId, string trigger);
}
