using Ballast.Leasing;
using Ballast.Monitoring;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Monitoring;

/// <summary>
/// Runs the monitor scheduler every few seconds on the one replica that holds the <c>monitors</c> lease (renewed each
/// tick; another replica takes over within the lease's 30 s when this one dies). Windows are computed once: the lease
/// keeps one scheduler at a time, and a window is stored once per monitor and start.
/// </summary>
public sealed partial class MonitorService(MonitorScheduler scheduler, LeaseStore leases, TimeProvider time, ILogger<MonitorService> logger) : BackgroundService
{
    public const string LeaseName = "monitors";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    private readonly string _holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                if (await leases.TryAcquireAsync(LeaseName, _holder, LeaseDuration, stoppingToken).ConfigureAwait(false) is not null)
                {
                    await scheduler.TickAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database or artifact store may be briefly unreachable; the state is the stored windows, so the next tick carries on.
                LogFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A monitor scheduler tick failed; retrying at the next tick")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
