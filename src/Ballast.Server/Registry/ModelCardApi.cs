using Ballast.Audit;
using Ballast.Registry;
using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Registry;

public sealed record CardSectionRequest(string? Text);

/// <summary>
/// <c>GET /api/v1/models/{name}/versions/{version}/card</c> (JSON, or Markdown with <c>?format=markdown</c> or
/// <c>Accept: text/markdown</c>) and <c>PUT …/card/sections/{section}</c> to edit a free-text section.
/// </summary>
public static class ModelCardApi
{
    public static IEndpointRouteBuilder MapModelCardApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/models/{name}/versions/{version}/card").WithTags("Model cards");
        group.MapGet("/", async (string name, string version, string? format, HttpRequest http, RegistryStore registry, RunStore runs, AuditLog audit, Ballast.Datasets.DatasetStore datasets, CancellationToken cancellationToken) =>
        {
            // A format the route does not write is a mistake to name, not a reason to answer JSON in silence.
            if (!string.IsNullOrEmpty(format) && !string.Equals(format, "markdown", StringComparison.OrdinalIgnoreCase) && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
            {
                throw TrackingException.Invalid($"format '{format}' is not one of json, markdown.");
            }

            var card = await ModelCard.BuildAsync(registry, runs, audit, name, version, datasets, cancellationToken).ConfigureAwait(false);
            var markdown = string.Equals(format, "markdown", StringComparison.OrdinalIgnoreCase)
                || http.Headers.Accept.ToString().Contains("text/markdown", StringComparison.OrdinalIgnoreCase);
            return markdown ? Results.Text(card.ToMarkdown(), "text/markdown; charset=utf-8") : Results.Json(card, Serialization.ApiJson.Context.ModelCard);
        }).WithSummary("The model card: purpose, owner, data, params, metrics, lineage, history, sections.").RequireAuthorization(BallastPolicies.Reader);

        group.MapPut("/sections/{section}", async (string name, string version, string section, CardSectionRequest request, RegistryStore registry, CancellationToken cancellationToken) =>
        {
            if (request.Text is null)
            {
                throw TrackingException.Invalid("The body must be {\"text\": \"…\"} with the section's text.");
            }

            await registry.SetVersionTagAsync(name, version, new TrackingTag(ModelCard.SectionTagPrefix + section, request.Text), cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithSummary("Sets a free-text section of the card (e.g. limitations, ethical-considerations).").RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }
}
