using Ballast.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Serving;

/// <summary>
/// Builds the routing snapshot before the server takes traffic, then refreshes it every few seconds so that changes
/// made through another replica and alias moves in the registry reach this one.
/// </summary>
public sealed partial class EndpointRefreshService(EndpointRouter router, TimeProvider time, ILogger<EndpointRefreshService> logger) : BackgroundService
{
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(5);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await router.RefreshAsync(cancellationToken).ConfigureAwait(false);
            foreach (var problem in router.Problems)
            {
                LogProblem(logger, problem.Endpoint, problem.Message);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The database may be briefly unreachable; the previous snapshot keeps serving.
            LogFailed(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {Endpoint} is not fully served: {Problem}")]
    private static partial void LogProblem(ILogger logger, string endpoint, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing the routing snapshot failed; serving the previous one")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
