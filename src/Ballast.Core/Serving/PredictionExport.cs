using System.Globalization;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// Exports an endpoint's predictions in a time range, joined with their feedback (outcome, reward), to one Parquet or
/// CSV file, with DuckDB over the log's segments (rolled first, so the newest records are in).
/// </summary>
public sealed class PredictionExport(PredictionLog log, IArtifactStore artifacts, FeedbackStore feedback, PredictionLogWatermarks? watermarks = null)
{
    /// <summary>Margin kept below another replica's published watermark (records stamped just before it may still be on their way to its log).</summary>
    public static TimeSpan WatermarkMargin { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Up to when (Unix ms) every replica's records are readable here, or null when no other live replica holds
    /// readers back (this replica's log is rolled on each query).
    /// </summary>
    public async Task<long?> WatermarkAsync(CancellationToken cancellationToken = default) =>
        watermarks is null || await watermarks.LowestOfOthersAsync(log.Instance, cancellationToken).ConfigureAwait(false) is not { } lowest
            ? null
            : lowest - (long)WatermarkMargin.TotalMilliseconds;

    public static IReadOnlyList<string> Formats { get; } = ["parquet", "csv"];

    /// <summary>
    /// The outcome (as feedback's JSON text) of each of <paramref name="predictionIds"/> whose feedback has one and
    /// arrived at or after <paramref name="since"/> (Unix ms): what <see cref="QueryAsync{T}(string, long?, long?, Func{DuckDBConnection, T}, CancellationToken)"/>
    /// from <paramref name="since"/> joins to them, without reading the log.
    /// </summary>
    public async Task<Dictionary<string, string>> OutcomesAsync(IReadOnlySet<string> predictionIds, long since, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predictionIds);
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in feedback.SinceAsync(since, cancellationToken).ConfigureAwait(false))
        {
            if (row.Outcome is { } outcome && predictionIds.Contains(row.PredictionId))
            {
                outcomes[row.PredictionId] = outcome;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// The export's layouts: <c>records</c>, the log's records as they are stored (one row per request, inputs and outputs
    /// as V2 JSON tensors), and <c>flat</c>, one row per scored row with a column per feature (<see cref="FlatPredictions"/>).
    /// </summary>
    public static IReadOnlyList<string> Layouts { get; } = ["records", "flat"];

    /// <summary>Writes the endpoint's records in [from, to] (Unix ms), as they are stored, with their feedback, in <see cref="PredictionSegments.Order"/>.</summary>
    public async Task ExportAsync(string endpoint, long? from, long? to, string format, string target, CancellationToken cancellationToken = default)
    {
        CheckFormat(format);
        await QueryAsync(endpoint, from, to, connection =>
        {
            Execute(connection, $"COPY (SELECT * FROM predictions ORDER BY {PredictionSegments.Order}) " +
                $"TO {Literal(target)} ({CopyOptions(format)})");
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the answers in [from, to] (Unix ms) flat (<see cref="FlatPredictions"/>), one row per scored row, input tensors'
    /// columns named by <paramref name="featureNames"/> where it names them.
    /// </summary>
    public async Task ExportFlatAsync(string endpoint, long? from, long? to, string format, string target, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames,
        CancellationToken cancellationToken = default)
    {
        CheckFormat(format);
        await QueryAsync(endpoint, from, to, connection =>
        {
            FlatPredictions.Write(connection, featureNames, format, target, cancellationToken: cancellationToken);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The options of DuckDB's <c>COPY … TO</c> that write an export in <paramref name="format"/> (<see cref="Formats"/>).</summary>
    internal static string CopyOptions(string format) => format == "csv" ? "FORMAT csv, HEADER" : "FORMAT parquet, COMPRESSION zstd";

    /// <summary>Refuses a format other than <see cref="Formats"/> (before a caller names a file after it).</summary>
    public static void CheckFormat(string format)
    {
        if (!Formats.Contains(format))
        {
            throw Tracking.TrackingException.Invalid($"format '{format}' is not one of {string.Join(", ", Formats)}.");
        }
    }

    /// <summary>
    /// Runs <paramref name="query"/> on a DuckDB connection holding the view <c>predictions</c>: the endpoint's logged
    /// predictions in [from, to] (Unix ms; the log is rolled first, so the newest are in) with the columns of the log
    /// (<see cref="PredictionSegments.Empty"/>, whatever shape each segment has) and their feedback's <c>outcome</c>,
    /// <c>reward</c> and <c>feedback_at</c>. A query that depends on the order of records orders by <see cref="PredictionSegments.Order"/>.
    /// </summary>
    public Task<T> QueryAsync<T>(string endpoint, long? from, long? to, Func<DuckDBConnection, T> query, CancellationToken cancellationToken = default) =>
        QueryAsync(endpoint, from, to, null, query, cancellationToken);

    /// <summary>
    /// As <see cref="QueryAsync{T}(string, long?, long?, Func{DuckDBConnection, T}, CancellationToken)"/>, with the
    /// feedback as it stood at <paramref name="feedbackUntil"/> (Unix ms) when given: what arrived later, including a
    /// re-sent or changed outcome, is not seen (<see cref="FeedbackStore.AsOfAsync"/>).
    /// </summary>
    public Task<T> QueryAsync<T>(string endpoint, long? from, long? to, long? feedbackUntil, Func<DuckDBConnection, T> query, CancellationToken cancellationToken = default) =>
        QueryAsync(endpoint, from, to, feedbackUntil, null, null, query, cancellationToken);

    /// <summary>
    /// As <see cref="QueryAsync{T}(string, long?, long?, Func{DuckDBConnection, T}, CancellationToken)"/>, the view holding
    /// only the records that sort after <paramref name="after"/> and at or before <paramref name="through"/> when given
    /// (<see cref="LogPosition"/>: a row window's bounds, exact however many records share a millisecond).
    /// </summary>
    public Task<T> QueryAsync<T>(string endpoint, long? from, long? to, LogPosition? after, LogPosition? through, Func<DuckDBConnection, T> query, CancellationToken cancellationToken = default) =>
        QueryAsync(endpoint, from, to, null, after, through, query, cancellationToken);

    private async Task<T> QueryAsync<T>(string endpoint, long? from, long? to, long? feedbackUntil, LogPosition? after, LogPosition? through, Func<DuckDBConnection, T> query,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await log.RollAsync(cancellationToken).ConfigureAwait(false);
        var segments = await log.SegmentsAsync(endpoint, from, to, cancellationToken).ConfigureAwait(false);
        var scratch = Path.Combine(Path.GetTempPath(), "ballast-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var files = new List<string>();
            foreach (var segment in segments)
            {
                files.Add(await artifacts.LocalFileAsync(segment, Path.Combine(scratch, Guid.NewGuid().ToString("N") + ".parquet"), cancellationToken).ConfigureAwait(false));
            }

            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            Execute(connection, "SET threads = 2; SET memory_limit = '512MB';");
            Execute(connection, "CREATE TABLE feedback (prediction_id VARCHAR, outcome VARCHAR, reward DOUBLE, feedback_at BIGINT)");
            using (var appender = connection.CreateAppender("feedback"))
            {
                var rows = feedbackUntil is { } until ? feedback.AsOfAsync(from ?? 0, until, cancellationToken) : feedback.SinceAsync(from ?? 0, cancellationToken);
                await foreach (var row in rows.ConfigureAwait(false))
                {
                    var appended = appender.CreateRow().AppendValue(row.PredictionId).AppendValue(row.Outcome);
                    (row.Reward is { } reward ? appended.AppendValue(reward) : appended.AppendNullValue()).AppendValue(row.ReceivedAt).EndRow();
                }
            }

            var source = PredictionSegments.Relation(files);
            var where = string.Join(" AND ", new[] { "true", from is { } f ? $"p.timestamp >= {f.ToString(CultureInfo.InvariantCulture)}" : null, to is { } t ? $"p.timestamp <= {t.ToString(CultureInfo.InvariantCulture)}" : null,
                after?.AfterSql("p"), through?.AtOrBeforeSql("p") }.OfType<string>());
            Execute(connection, $"CREATE VIEW predictions AS SELECT p.*, f.outcome, f.reward, f.feedback_at FROM {source} p LEFT JOIN feedback f USING (prediction_id) WHERE {where}");
            return query(connection);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
