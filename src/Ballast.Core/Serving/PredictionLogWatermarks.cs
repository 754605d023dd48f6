using Ballast.Metadata;
using Dapper;

namespace Ballast.Serving;

/// <summary>
/// Each replica's prediction log watermark (<see cref="PredictionLog.Watermark"/>), published every few seconds, so a
/// reader on one replica knows up to when the others' records are all in segments. A replica that stopped publishing
/// for <see cref="Liveness"/> (it died, or was scaled away) no longer holds readers back.
/// </summary>
public sealed class PredictionLogWatermarks(MetadataDatabase database, TimeProvider time)
{
    public static TimeSpan Liveness { get; } = TimeSpan.FromMinutes(2);

    public async Task PublishAsync(string instance, long rolledUntil, CancellationToken cancellationToken = default)
    {
        using var turn = await database.WriterTurnAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO prediction_log_watermarks (instance, rolled_until, updated_at) VALUES (@instance, @rolledUntil, @now) " +
            "ON CONFLICT (instance) DO UPDATE SET rolled_until = excluded.rolled_until, updated_at = excluded.updated_at",
            new { instance, rolledUntil, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Forgets a replica whose log is closed (every record rolled).</summary>
    public async Task RemoveAsync(string instance, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM prediction_log_watermarks WHERE instance = @instance", new { instance }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The lowest watermark of the live replicas other than <paramref name="instance"/>, or null when there are none.</summary>
    public async Task<long?> LowestOfOthersAsync(string instance, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var liveSince = (time.GetUtcNow() - Liveness).ToUnixTimeMilliseconds();
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT min(rolled_until) FROM prediction_log_watermarks WHERE instance <> @instance AND updated_at >= @liveSince",
            new { instance, liveSince }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
