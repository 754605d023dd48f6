using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Tracking;

public sealed record ExperimentTagJson(string Key, string? Value);

public sealed record ExperimentJson(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long LastUpdateTime, long CreationTime, IReadOnlyList<ExperimentTagJson>? Tags)
{
    public static ExperimentJson From(Experiment experiment) => new(
        experiment.ExperimentId, experiment.Name, experiment.ArtifactLocation, experiment.LifecycleStage, experiment.LastUpdateTime, experiment.CreationTime,
        experiment.Tags.Count == 0 ? null : experiment.Tags.Select(tag => new ExperimentTagJson(tag.Key, tag.Value)).ToList());
}

public sealed record CreateExperimentResponse(string ExperimentId);

public sealed record GetExperimentResponse(ExperimentJson Experiment);

public sealed record SearchExperimentsResponse(IReadOnlyList<ExperimentJson> Experiments, string? NextPageToken);

public sealed record EmptyResponse;

/// <summary>
/// MLflow REST experiments (<c>/api/2.0/mlflow/experiments/…</c>, also under <c>/ajax-api</c> as MLflow's UI calls it).
/// Errors are <see cref="TrackingException"/>s, written in MLflow's format by the server's one error mapping.
/// </summary>
public static class MlflowExperimentsApi
{
    public static IEndpointRouteBuilder MapMlflowExperimentsApi(this IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow/experiments", "/ajax-api/2.0/mlflow/experiments" })
        {
            var group = routes.MapGroup(prefix).WithTags("MLflow experiments");
            group.MapPost("/create", CreateAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapGet("/get", GetAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapGet("/get-by-name", GetByNameAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapMethods("/search", ["GET", "POST"], SearchAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapGet("/list", SearchAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapPost("/update", UpdateAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/delete", DeleteAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/restore", RestoreAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/set-experiment-tag", SetTagAsync).RequireAuthorization(BallastPolicies.Writer);
        }

        return routes;
    }

    private static async Task<Ok<CreateExperimentResponse>> CreateAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var id = await store.CreateAsync(request.RequiredString("name"), request.OptionalString("artifact_location"), request.Tags("tags"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new CreateExperimentResponse(id));
    }

    private static async Task<Ok<GetExperimentResponse>> GetAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var experiment = await store.GetAsync(request.RequiredString("experiment_id"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new GetExperimentResponse(ExperimentJson.From(experiment)));
    }

    private static async Task<Ok<GetExperimentResponse>> GetByNameAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var experiment = await store.GetByNameAsync(request.RequiredString("experiment_name"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new GetExperimentResponse(ExperimentJson.From(experiment)));
    }

    private static async Task<Ok<SearchExperimentsResponse>> SearchAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var page = await store.SearchAsync(new ExperimentSearch(
            request.OptionalString("filter"),
            request.StringList("order_by"),
            request.OptionalInt("max_results"),
            request.OptionalString("page_token"),
            request.ViewType("view_type")), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new SearchExperimentsResponse(page.Experiments.Select(ExperimentJson.From).ToList(), page.NextPageToken));
    }

    private static async Task<Ok<EmptyResponse>> UpdateAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        // new_name is required, as in MLflow's _update_experiment schema ([_assert_string, _assert_required]): renaming is all
        // this call does, so a request without it is a mistake to report, not a no-op.
        var id = request.RequiredString("experiment_id");
        await store.RenameAsync(id, request.RequiredString("new_name"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> DeleteAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await store.DeleteAsync(request.RequiredString("experiment_id"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> RestoreAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await store.RestoreAsync(request.RequiredString("experiment_id"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> SetTagAsync(HttpRequest http, ExperimentStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var tag = new TrackingTag(request.RequiredString("key"), request.OptionalString("value") ?? "");
        await store.SetTagAsync(request.RequiredString("experiment_id"), tag, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }
}
