using Ballast.Audit;
using Ballast.Server.Errors;
using Ballast.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Audit;

public sealed record AuditEventResponse(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string ResourceType, string Resource, string? Details);

public sealed record AuditListResponse(IReadOnlyList<AuditEventResponse> Events, string? NextPageToken);

/// <summary><c>GET /api/v1/audit</c>: registry changes, newest first, with who made them.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/audit", async Task<Results<Ok<AuditListResponse>, ProblemHttpResult>> (AuditLog audit, HttpRequest request,
            [FromQuery(Name = "resource_type")] string? resourceType, string? resource, string? actor,
            [FromQuery(Name = "max_results")] int? maxResults, [FromQuery(Name = "page_token")] string? pageToken, CancellationToken cancellationToken) =>
        {
            // The camelCase names the first release took stay as aliases; snake_case is the documented form, as on every other list.
            var aliases = new QueryAliases(request.Query);
            var query = new AuditQuery(
                aliases.Text("resource_type", "resourceType", resourceType), resource, actor,
                aliases.Integer("max_results", "maxResults", maxResults), aliases.Text("page_token", "pageToken", pageToken));
            if (aliases.Problems.Count > 0)
            {
                return ErrorResponses.ProblemResult(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameterValue, ProblemList.Join(aliases.Problems) + ".", aliases.Problems);
            }

            var page = await audit.ListAsync(query, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new AuditListResponse(
                page.Events.Select(e => new AuditEventResponse(e.Id, e.OccurredAt, e.Actor, e.Action, e.ResourceType, e.Resource, e.Details)).ToList(),
                page.NextPageToken));
        }).WithTags("Audit").WithSummary("Registry changes, newest first; filter by resource_type, resource (name or name/version) and actor; page with max_results and page_token.")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }
}
