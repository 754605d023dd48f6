using Ballast.Metadata;
using Ballast.Server.Errors;
using Ballast.Server.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Ballast.Server.Hosting;

public sealed record VersionResponse(string Version, string Runtime, string Database, string Artifacts);

public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string>? Checks = null);

/// <summary><c>/health</c> (liveness), <c>/ready</c> (readiness: the metadata database answers), <c>/version</c>, <c>/metrics</c>.</summary>
public static class SystemApi
{
    public static IEndpointRouteBuilder MapSystemApi(this IEndpointRouteBuilder routes, ServerContext server)
    {
        ArgumentNullException.ThrowIfNull(server);
        routes.MapGet("/health", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("System").WithSummary("Liveness: the process is up and serving HTTP.").AllowAnonymous();

        routes.MapGet("/ready", ReadyAsync)
            .WithTags("System").WithSummary("Readiness: the metadata database answers.").AllowAnonymous();

        var version = new VersionResponse(
            BallastVersion.Current,
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            server.Database.Engine == DatabaseEngine.Postgres ? "postgres" : "sqlite",
            server.Artifacts.Location.StartsWith("s3://", StringComparison.Ordinal) ? "s3" : "local");
        routes.MapGet("/version", () => TypedResults.Ok(version))
            .WithTags("System").WithSummary("Ballast version and the kind of stores in use.").AllowAnonymous();

        routes.MapMetrics("/metrics").AllowAnonymous().ExcludeFromDescription();
        return routes;

        async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(CancellationToken cancellationToken)
        {
            try
            {
                await using var connection = await server.Database.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return TypedResults.Ok(new HealthResponse("ready", new Dictionary<string, string> { ["metadata"] = "ok" }));
            }
            catch (MetadataUnavailableException exception)
            {
                return ErrorResponses.ProblemResult(StatusCodes.Status503ServiceUnavailable, ErrorCodes.TemporarilyUnavailable, exception.Message);
            }
        }
    }
}
