using Ballast.Audit;
using Ballast.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Audit;

public sealed record AuditEventResponse(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string ResourceType, string Resource, string? Details);

public sealed record AuditListResponse(IReadOnlyList<AuditEventResponse> Events, string? NextPageToken);

/// <summary><c>GET /api/v1/audit</c>: registry changes, newest first, with who made them.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/audit", async (AuditLog audit, string? resourceType, string? resource, string? actor, int? maxResults, string? pageToken, CancellationToken cancellationToken) =>
        {
            var page = await audit.ListAsync(new AuditQuery(resourceType, resource, actor, maxResults, pageToken), cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new AuditListResponse(
                page.Events.Select(e => new AuditEventResponse(e.Id, e.OccurredAt, e.Actor, e.Action, e.ResourceType, e.Resource, e.Details)).ToList(),
                page.NextPageToken));
        }).WithTags("Audit").WithSummary("Registry changes, newest first; filter by resource_type, resource (name or name/version) and actor.")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }
}
