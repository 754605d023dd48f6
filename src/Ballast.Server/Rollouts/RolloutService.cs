using Ballast.Leasing;
using Ballast.Rollouts;
using Ballast.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Rollouts;

/// <summary>
/// Runs the rollout controller every second on the one replica that holds the <c>rollouts</c> lease (another replica
/// takes over within the lease's 15 s when this one dies).
/// </summary>
public sealed class RolloutService(RolloutController controller, LeaseStore leases, TimeProvider time, ILogger<RolloutService> logger)
    : LeaseHoldingService(leases, time, logger, LeaseName, TimeSpan.FromSeconds(1), LeaseDuration)
{
    public const string LeaseName = "rollouts";
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    protected override Task TickAsync(CancellationToken cancellationToken) => controller.TickAsync(cancellationToken);
}
