using Ballast.Leasing;
using Ballast.Rollouts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Rollouts;

/// <summary>
/// Runs the rollout controller every second on the one replica that holds the <c>rollouts</c> lease (renewed each
/// tick; another replica takes over within the lease's 15 s when this one dies).
/// </summary>
public sealed partial class RolloutService(RolloutController controller, LeaseStore leases, TimeProvider time, ILogger<RolloutService> logger) : BackgroundService
{
    public const string LeaseName = "rollouts";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

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
                    await controller.TickAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be briefly unreachable; the state is in it, so the next tick carries on.
                LogFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A rollout controller tick failed; retrying in a second")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
