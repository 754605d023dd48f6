using Ballast.Registry;
using Ballast.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Registry;

/// <summary><c>GET /api/v1/lineage/model-versions/{name}/{version}</c>: dataset versions → run → model version, as nodes and edges.</summary>
public static class LineageApi
{
    public static IEndpointRouteBuilder MapLineageApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/lineage/model-versions/{name}/{version}", async Task<Ok<LineageGraph>> (string name, string version, ModelLineage lineage, CancellationToken cancellationToken) =>
            TypedResults.Ok(await lineage.ForModelVersionAsync(name, version, cancellationToken).ConfigureAwait(false)))
            .WithTags("Lineage").WithSummary("Where a model version came from: its run and the datasets that run used.")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }
}
