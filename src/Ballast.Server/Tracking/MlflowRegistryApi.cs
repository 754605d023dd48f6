using Ballast.Registry;
using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Tracking;

public sealed record ModelAliasJson(string Alias, string Version);

public sealed record ModelVersionJson(
    string Name, string Version, long CreationTimestamp, long LastUpdatedTimestamp, string? Description, string? UserId, string CurrentStage,
    string Source, string? RunId, string? RunLink, string Status, string? StatusMessage, IReadOnlyList<KeyValueJson>? Tags, IReadOnlyList<string>? Aliases, string? ModelId)
{
    public static ModelVersionJson From(ModelVersion v) => new(
        v.Name, v.Version, v.CreationTimestamp, v.LastUpdatedTimestamp, v.Description, v.UserId, v.CurrentStage, v.Source, v.RunId, v.RunLink, v.Status, v.StatusMessage,
        v.Tags.Count == 0 ? null : v.Tags.Select(tag => new KeyValueJson(tag.Key, tag.Value)).ToList(),
        v.Aliases.Count == 0 ? null : v.Aliases, v.ModelId);
}

public sealed record RegisteredModelJson(
    string Name, long CreationTimestamp, long LastUpdatedTimestamp, string? Description, IReadOnlyList<ModelVersionJson>? LatestVersions,
    IReadOnlyList<KeyValueJson>? Tags, IReadOnlyList<ModelAliasJson>? Aliases)
{
    public static RegisteredModelJson From(RegisteredModel m) => new(
        m.Name, m.CreationTimestamp, m.LastUpdatedTimestamp, m.Description,
        m.LatestVersions.Count == 0 ? null : m.LatestVersions.Select(ModelVersionJson.From).ToList(),
        m.Tags.Count == 0 ? null : m.Tags.Select(tag => new KeyValueJson(tag.Key, tag.Value)).ToList(),
        m.Aliases.Count == 0 ? null : m.Aliases.Select(alias => new ModelAliasJson(alias.Alias, alias.Version)).ToList());
}

public sealed record RegisteredModelResponse(RegisteredModelJson RegisteredModel);

public sealed record RegisteredModelsResponse(IReadOnlyList<RegisteredModelJson>? RegisteredModels, string? NextPageToken);

public sealed record ModelVersionResponse(ModelVersionJson ModelVersion);

public sealed record ModelVersionsResponse(IReadOnlyList<ModelVersionJson>? ModelVersions, string? NextPageToken = null);

public sealed record DownloadUriResponse(string ArtifactUri);

/// <summary>MLflow REST model registry (<c>/api/2.0/mlflow/registered-models/…</c>, <c>/model-versions/…</c>).</summary>
public static class MlflowRegistryApi
{
    public static IEndpointRouteBuilder MapMlflowRegistryApi(this IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow", "/ajax-api/2.0/mlflow" })
        {
            var models = routes.MapGroup(prefix + "/registered-models").WithTags("MLflow model registry");
            models.MapPost("/create", (HttpRequest http, RegistryStore registry) => ModelAsync(http, (r, c) =>
                registry.CreateModelAsync(r.RequiredString("name"), r.OptionalString("description"), r.Tags("tags"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapGet("/get", (HttpRequest http, RegistryStore registry) => ModelAsync(http, (r, c) =>
                registry.GetModelAsync(r.RequiredString("name"), c))).RequireAuthorization(BallastPolicies.Reader);
            models.MapPost("/rename", (HttpRequest http, RegistryStore registry) => ModelAsync(http, (r, c) =>
                registry.RenameModelAsync(r.RequiredString("name"), r.RequiredString("new_name"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapPatch("/update", (HttpRequest http, RegistryStore registry) => ModelAsync(http, (r, c) =>
                registry.UpdateModelAsync(r.RequiredString("name"), r.OptionalString("description"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapDelete("/delete", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.DeleteModelAsync(r.RequiredString("name"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapGet("/search", SearchModelsAsync).RequireAuthorization(BallastPolicies.Reader);
            models.MapMethods("/get-latest-versions", ["GET", "POST"], async (HttpRequest http, RegistryStore registry) =>
            {
                var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
                var versions = await registry.GetLatestVersionsAsync(request.RequiredString("name"), request.StringList("stages"), http.HttpContext.RequestAborted).ConfigureAwait(false);
                return TypedResults.Ok(new ModelVersionsResponse(versions.Count == 0 ? null : versions.Select(ModelVersionJson.From).ToList()));
            }).RequireAuthorization(BallastPolicies.Reader);
            models.MapPost("/set-tag", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.SetModelTagAsync(r.RequiredString("name"), new TrackingTag(r.RequiredString("key"), r.OptionalString("value") ?? ""), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapDelete("/delete-tag", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.DeleteModelTagAsync(r.RequiredString("name"), r.RequiredString("key"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapPost("/alias", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.SetAliasAsync(r.RequiredString("name"), r.RequiredString("alias"), r.RequiredString("version"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapDelete("/alias", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.DeleteAliasAsync(r.RequiredString("name"), r.RequiredString("alias"), c))).RequireAuthorization(BallastPolicies.Writer);
            models.MapGet("/alias", (HttpRequest http, RegistryStore registry) => VersionAsync(http, (r, c) =>
                registry.GetVersionByAliasAsync(r.RequiredString("name"), r.RequiredString("alias"), c))).RequireAuthorization(BallastPolicies.Reader);

            var versions = routes.MapGroup(prefix + "/model-versions").WithTags("MLflow model registry");
            versions.MapPost("/create", (HttpRequest http, RegistryStore registry) => VersionAsync(http, (r, c) => registry.CreateVersionAsync(
                r.RequiredString("name"), r.RequiredString("source"), r.OptionalString("run_id"), r.Tags("tags"), r.OptionalString("run_link"), r.OptionalString("description"),
                http.HttpContext.User.Identity?.Name, r.OptionalString("model_id"), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapGet("/get", (HttpRequest http, RegistryStore registry) => VersionAsync(http, (r, c) =>
                registry.GetVersionAsync(r.RequiredString("name"), r.RequiredString("version"), c))).RequireAuthorization(BallastPolicies.Reader);
            versions.MapPatch("/update", (HttpRequest http, RegistryStore registry) => VersionAsync(http, (r, c) =>
                registry.UpdateVersionAsync(r.RequiredString("name"), r.RequiredString("version"), r.OptionalString("description"), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapDelete("/delete", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.DeleteVersionAsync(r.RequiredString("name"), r.RequiredString("version"), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapGet("/search", SearchVersionsAsync).RequireAuthorization(BallastPolicies.Reader);
            versions.MapPost("/transition-stage", (HttpRequest http, RegistryStore registry) => VersionAsync(http, (r, c) => registry.TransitionStageAsync(
                r.RequiredString("name"), r.RequiredString("version"), r.RequiredString("stage"), r.OptionalBool("archive_existing_versions"), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapPost("/set-tag", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) => registry.SetVersionTagAsync(
                r.RequiredString("name"), r.RequiredString("version"), new TrackingTag(r.RequiredString("key"), r.OptionalString("value") ?? ""), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapDelete("/delete-tag", (HttpRequest http, RegistryStore registry) => EmptyAsync(http, (r, c) =>
                registry.DeleteVersionTagAsync(r.RequiredString("name"), r.RequiredString("version"), r.RequiredString("key"), c))).RequireAuthorization(BallastPolicies.Writer);
            versions.MapGet("/get-download-uri", async (HttpRequest http, RegistryStore registry) =>
            {
                var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
                var version = await registry.GetVersionAsync(request.RequiredString("name"), request.RequiredString("version"), http.HttpContext.RequestAborted).ConfigureAwait(false);
                return TypedResults.Ok(new DownloadUriResponse(version.DownloadUri));
            }).RequireAuthorization(BallastPolicies.Reader);
        }

        return routes;
    }

    private static async Task<Ok<RegisteredModelResponse>> ModelAsync(HttpRequest http, Func<MlflowRequest, CancellationToken, Task<RegisteredModel>> action)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        return TypedResults.Ok(new RegisteredModelResponse(RegisteredModelJson.From(await action(request, http.HttpContext.RequestAborted).ConfigureAwait(false))));
    }

    private static async Task<Ok<ModelVersionResponse>> VersionAsync(HttpRequest http, Func<MlflowRequest, CancellationToken, Task<ModelVersion>> action)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        return TypedResults.Ok(new ModelVersionResponse(ModelVersionJson.From(await action(request, http.HttpContext.RequestAborted).ConfigureAwait(false))));
    }

    private static async Task<Ok<EmptyResponse>> EmptyAsync(HttpRequest http, Func<MlflowRequest, CancellationToken, Task> action)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await action(request, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<RegisteredModelsResponse>> SearchModelsAsync(HttpRequest http, RegistryStore registry)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var page = await registry.SearchModelsAsync(Search(request), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new RegisteredModelsResponse(page.Models.Count == 0 ? null : page.Models.Select(RegisteredModelJson.From).ToList(), page.NextPageToken));
    }

    private static async Task<Ok<ModelVersionsResponse>> SearchVersionsAsync(HttpRequest http, RegistryStore registry)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var page = await registry.SearchVersionsAsync(Search(request), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new ModelVersionsResponse(page.Versions.Count == 0 ? null : page.Versions.Select(ModelVersionJson.From).ToList(), page.NextPageToken));
    }

    private static RegistrySearch Search(MlflowRequest request) =>
        new(request.OptionalString("filter"), request.StringList("order_by"), request.OptionalInt("max_results"), request.OptionalString("page_token"));
}
