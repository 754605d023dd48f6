using Ballast.Leasing;
using Ballast.Monitoring;
using Ballast.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Monitoring;

/// <summary>
/// Runs the monitor scheduler every few seconds on the one replica that holds the <c>monitors</c> lease (another
/// replica takes over within the lease's 30 s when this one dies). Windows are computed once: the lease keeps one
/// scheduler at a time, and a window is stored once per monitor and start.
/// </summary>
public sealed class MonitorService(MonitorScheduler scheduler, LeaseStore leases, TimeProvider time, ILogger<MonitorService> logger)
    : LeaseHoldingService(leases, time, logger, LeaseName, TimeSpan.FromSeconds(5), LeaseDuration)
{
    public const string LeaseName = "monitors";
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    protected override Task TickAsync(CancellationToken cancellationToken) => scheduler.TickAsync(cancellationToken);
}
