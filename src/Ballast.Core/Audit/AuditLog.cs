using System.Data.Common;
using System.Text;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Audit;

/// <summary>Reads the audit trail; <see cref="RecordAsync"/> writes to it inside the caller's transaction, so a change and its record commit together.</summary>
public sealed class AuditLog(MetadataDatabase database)
{
    public const int MaxResultsLimit = 1000;

    public static Task RecordAsync(DbConnection connection, DbTransaction transaction, TimeProvider time, string actor, string action, string resourceType, string resource, string? details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        return connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO audit_events (occurred_at, actor, action, resource_type, resource, details) VALUES (@at, @actor, @action, @resourceType, @resource, @details)",
            new { at = time.GetUtcNow().ToUnixTimeMilliseconds(), actor, action, resourceType, resource, details }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Newest first, optionally narrowed to a resource (type, and name or name/version) or an actor. Pages by key: the
    /// next page token holds the last id of the page and the next page reads below it, so an event recorded between two
    /// pages neither pushes the last event of one page onto the next nor is skipped over (it is newer than the first
    /// page, where a new listing finds it). A token without a key (the previous releases') is read as an offset.
    /// </summary>
    public async Task<AuditPage> ListAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var maxResults = query.MaxResults ?? 100;
        if (maxResults <= 0 || maxResults > MaxResultsLimit)
        {
            throw TrackingException.Invalid($"max_results must be between 1 and {MaxResultsLimit}, not {maxResults}.");
        }

        var tokenQuery = new PageTokenQuery("audit_events").WithText("resource_type", query.ResourceType).WithText("resource", query.Resource).WithText("actor", query.Actor);
        var cursor = PageToken.ParseCursor(query.PageToken, tokenQuery);
        var where = new StringBuilder("1 = 1");
        if (cursor.LastKey is not null)
        {
            // Keyset: below the previous page's last event, so events recorded since neither shift this page nor repeat.
            where.Append(" AND id < @LastKey");
        }

        if (query.ResourceType is not null)
        {
            where.Append(" AND resource_type = @ResourceType");
        }

        if (query.Resource is not null)
        {
            where.Append(" AND resource = @Resource");
        }

        if (query.Actor is not null)
        {
            where.Append(" AND actor = @Actor");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT id AS Id, occurred_at AS OccurredAt, actor AS Actor, action AS Action, resource_type AS ResourceType, resource AS Resource, details AS Details FROM audit_events WHERE {where} ORDER BY id DESC LIMIT @limit OFFSET @offset",
            new { query.ResourceType, query.Resource, query.Actor, cursor.LastKey, limit = maxResults + 1, offset = cursor.LastKey is null ? cursor.Offset : 0 }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var next = rows.Count > maxResults ? PageToken.Create(cursor.Offset + maxResults, tokenQuery, rows[maxResults - 1].Id) : null;
        return new AuditPage(
            rows.Take(maxResults).Select(row => new AuditEvent(row.Id, DateTimeOffset.FromUnixTimeMilliseconds(row.OccurredAt), row.Actor, row.Action, row.ResourceType, row.Resource, row.Details)).ToList(),
            next);
    }

    private sealed record Row(long Id, long OccurredAt, string Actor, string Action, string ResourceType, string Resource, string? Details);
}
