using Ballast.Leasing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Hosting;

/// <summary>
/// A background controller that runs in every replica and acts only while it holds its lease: every
/// <see cref="Interval"/> it takes or renews the lease and, when it holds it, ticks. Another replica takes over within
/// the lease's duration when this one dies or stalls. The controllers' state is in the database, so a failed tick is
/// logged and the next one carries on.
/// </summary>
public abstract partial class LeaseHoldingService(LeaseStore leases, TimeProvider time, ILogger logger, string leaseName, TimeSpan interval, TimeSpan leaseDuration) : BackgroundService
{
    private readonly string _holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    private bool _held;

    public TimeSpan Interval => interval;

    /// <summary>The controller's work, on the lease holder only.</summary>
    protected abstract Task TickAsync(CancellationToken cancellationToken);

    /// <summary>Work every replica does each tick, before the lease is looked at (gauges every replica exports).</summary>
    protected virtual Task EveryTickAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called once when another replica took the lease from this one (it stalled past the lease).</summary>
    protected virtual Task LeaseLostAsync() => Task.CompletedTask;

    protected Task ReleaseLeaseAsync(CancellationToken cancellationToken) => leases.ReleaseAsync(leaseName, _holder, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await EveryTickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // What every replica does (publishing gauges) must not keep the lease holder from its work.
                LogFailed(logger, leaseName, interval.TotalSeconds, exception);
            }

            try
            {
                if (await leases.TryAcquireAsync(leaseName, _holder, leaseDuration, stoppingToken).ConfigureAwait(false) is null)
                {
                    if (_held)
                    {
                        _held = false;
                        LogLeaseLost(logger, leaseName);
                        await LeaseLostAsync().ConfigureAwait(false);
                    }
                }
                else
                {
                    _held = true;
                    await TickAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database or artifact store may be briefly unreachable; the state is stored, so the next tick carries on.
                LogFailed(logger, leaseName, interval.TotalSeconds, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the {Lease} lease to another replica")]
    private static partial void LogLeaseLost(ILogger logger, string lease);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Lease} controller tick failed; retrying in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string lease, double seconds, Exception exception);
}
