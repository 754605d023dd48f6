using Ballast.Features;
using Ballast.Leasing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Features;

/// <summary>
/// Keeps every replica's feature catalog fresh (each <see cref="RefreshInterval"/>, so scoring sees other replicas'
/// changes), and on the one replica holding the <c>features</c> lease materializes every view up to now each
/// <see cref="MaterializeInterval"/> (incremental and idempotent, so a takeover mid-run is safe).
/// </summary>
public sealed partial class FeatureMaterializationService(FeatureStore sets, FeatureMaterializer materializer, LeaseStore leases, TimeProvider time,
    ILogger<FeatureMaterializationService> logger) : BackgroundService
{
    public const string LeaseName = "features";
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaterializeInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(3);

    private readonly string _holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first run comes one interval after start: start-up stays quick, and `ballast features materialize` is there for now.
        var lastMaterialized = time.GetUtcNow();
        await RefreshAsync(stoppingToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(RefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            if (now - lastMaterialized < MaterializeInterval)
            {
                continue;
            }

            lastMaterialized = now;
            try
            {
                if (sets.Catalog.Views.Count > 0 && await leases.TryAcquireAsync(LeaseName, _holder, LeaseDuration, stoppingToken).ConfigureAwait(false) is not null)
                {
                    var results = await materializer.MaterializeAsync(now.ToUnixTimeMilliseconds(), cancellationToken: stoppingToken).ConfigureAwait(false);
                    FeaturesApi.Count(results);
                    foreach (var failed in results.Where(result => result.Error is not null))
                    {
                        LogViewFailed(logger, failed.View, failed.Error!);
                    }

                    foreach (var skipped in results.Where(result => result.Skipped is not null))
                    {
                        LogRowsSkipped(logger, skipped.View, skipped.Skipped!);
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A view whose dataset is missing or unreadable, or the database briefly away: the next run retries.
                LogMaterializationFailed(logger, exception);
            }
        }
    }

    private async Task RefreshAsync(CancellationToken stoppingToken)
    {
        try
        {
            await sets.RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogRefreshFailed(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled feature materialization failed; retrying at the next interval")]
    private static partial void LogMaterializationFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature view {View} was not materialized (the others were): {Error}")]
    private static partial void LogViewFailed(ILogger logger, string view, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature view {View}: {Skipped}")]
    private static partial void LogRowsSkipped(ILogger logger, string view, string skipped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the feature catalog failed; serving keeps the last one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
