using Ballast.Leasing;
using Ballast.Serving;
using Ballast.Server.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Every few minutes, on the one replica that holds the <c>prediction-compaction</c> lease, merges the prediction log's
/// segments of each past hour into one file, deletes the files merged an hour ago, and deletes the hours past the
/// retention when one is set (<see cref="PredictionCompaction"/>).
/// </summary>
public sealed partial class PredictionCompactionService(PredictionCompaction compaction, LeaseStore leases, TimeProvider time, ILogger<PredictionCompactionService> logger)
    : LeaseHoldingService(leases, time, logger, LeaseName, TimeSpan.FromMinutes(5), LeaseDuration)
{
    public const string LeaseName = "prediction-compaction";

    /// <summary>Longer than a pass over a busy hour, so that the lease outlives the tick that renewed it.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(20);

    private static readonly Counter Compacted = Metrics.CreateCounter("ballast_prediction_log_compacted_segments_total", "Prediction log segments merged into one file per endpoint and hour.");

    protected override async Task TickAsync(CancellationToken cancellationToken)
    {
        var result = await compaction.CompactAsync(cancellationToken).ConfigureAwait(false);
        Compacted.Inc(result.SegmentsCompacted);
        if (result.HoursCompacted > 0 || result.FilesDeleted > 0)
        {
            LogCompacted(logger, result.SegmentsCompacted, result.HoursCompacted, result.Rows, result.FilesDeleted, result.HoursExpired);
        }

        if (result.FoldersFailed > 0)
        {
            LogFailed(logger, result.FoldersFailed, result.LastError);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prediction log: {Count} hour folders could not be compacted (retried in 5 minutes); the last: {Error}")]
    private static partial void LogFailed(ILogger logger, int count, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prediction log: merged {Segments} segments of {Hours} hours ({Rows} rows); deleted {Deleted} files (merged an hour ago, or of {Expired} hours past the retention)")]
    private static partial void LogCompacted(ILogger logger, int segments, int hours, long rows, int deleted, int expired);
}
