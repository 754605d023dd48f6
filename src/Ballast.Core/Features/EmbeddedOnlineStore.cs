using Ballast.Metadata;
using Dapper;

namespace Ballast.Features;

/// <summary>The online store in the metadata database (SQLite or PostgreSQL): one row per view and entity key.</summary>
public sealed class EmbeddedOnlineStore(MetadataDatabase database, TimeProvider time) : IOnlineStore
{
    private const int ReadChunk = 500;

    public string Kind => "embedded";

    public async Task<int> WriteAsync(string view, IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        const string sql = """
            INSERT INTO feature_online (view_name, entity_key, event_at, feature_values, written_at) VALUES (@view, @EntityKey, @EventAt, @Values, @now)
            ON CONFLICT (view_name, entity_key) DO UPDATE SET event_at = excluded.event_at, feature_values = excluded.feature_values, written_at = excluded.written_at
            WHERE excluded.event_at > feature_online.event_at OR (excluded.event_at = feature_online.event_at AND excluded.feature_values <> feature_online.feature_values)
            """;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var changed = 0;
        foreach (var row in rows)
        {
            changed += await connection.ExecuteAsync(new CommandDefinition(sql, new { view, row.EntityKey, row.EventAt, row.Values, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changed;
    }

    public async Task<IReadOnlyList<OnlineRow?>> ReadAsync(string view, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new Dictionary<string, OnlineRow>(StringComparer.Ordinal);
        // PostgreSQL takes the keys as one array parameter; SQLite gets Dapper's expanded list.
        var match = database.Engine == DatabaseEngine.Postgres ? "= ANY(@chunk)" : "IN @chunk";
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in keys.Distinct(StringComparer.Ordinal).Chunk(ReadChunk))
        {
            var rows = await connection.QueryAsync<OnlineRow>(new CommandDefinition(
                "SELECT entity_key AS EntityKey, event_at AS EventAt, feature_values AS \"Values\" FROM feature_online WHERE view_name = @view AND entity_key " + match,
                new { view, chunk }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                found[row.EntityKey] = row;
            }
        }

        return keys.Select(key => found.GetValueOrDefault(key)).ToList();
    }

    public async Task<long> DeleteViewAsync(string view, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition("DELETE FROM feature_online WHERE view_name = @view", new { view }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
