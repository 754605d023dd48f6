using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Tracking;

public sealed record LoggedModelInfoJson(
    string ModelId, string ExperimentId, string Name, long CreationTimestampMs, long LastUpdatedTimestampMs, string ArtifactUri, string Status,
    string? StatusMessage, string? ModelType, string? SourceRunId, IReadOnlyList<KeyValueJson>? Tags, IReadOnlyList<LoggedModelRegistrationJson>? Registrations);

/// <summary>A version registered from the logged model: MLflow's <c>LoggedModelRegistrationInfo</c>.</summary>
public sealed record LoggedModelRegistrationJson(string Name, string Version);

/// <summary>A metric value linked to a logged model: MLflow's <c>Metric</c> with the run, model and dataset it belongs to.</summary>
public sealed record LoggedModelMetricJson(string Key, double Value, long Timestamp, long Step, string? DatasetName, string? DatasetDigest, string? ModelId, string? RunId);

public sealed record LoggedModelDataJson(IReadOnlyList<KeyValueJson>? Params, IReadOnlyList<LoggedModelMetricJson>? Metrics);

public sealed record LoggedModelJson(LoggedModelInfoJson Info, LoggedModelDataJson Data)
{
    // MLflow's JSON leaves out empty lists.
    public static LoggedModelJson From(LoggedModel model) => new(
        new LoggedModelInfoJson(model.ModelId, model.ExperimentId, model.Name, model.CreationTimestamp, model.LastUpdatedTimestamp, model.ArtifactLocation, model.Status,
            model.StatusMessage, model.ModelType, model.SourceRunId,
            model.Tags.Count == 0 ? null : model.Tags.Select(tag => new KeyValueJson(tag.Key, tag.Value)).ToList(),
            model.Registrations.Count == 0 ? null : model.Registrations.Select(registration => new LoggedModelRegistrationJson(registration.Name, registration.Version)).ToList()),
        new LoggedModelDataJson(
            model.Params.Count == 0 ? null : model.Params.Select(param => new KeyValueJson(param.Key, param.Value)).ToList(),
            model.Metrics.Count == 0 ? null : model.Metrics.Select(m => new LoggedModelMetricJson(m.Key, m.Value, m.Timestamp, m.Step, m.DatasetName, m.DatasetDigest, m.ModelId, m.RunId)).ToList()));
}

public sealed record LoggedModelResponse(LoggedModelJson Model);

public sealed record SearchLoggedModelsResponse(IReadOnlyList<LoggedModelJson>? Models, string? NextPageToken);

/// <summary>
/// MLflow 3's logged models (<c>/api/2.0/mlflow/logged-models…</c>), what <c>mlflow.&lt;flavor&gt;.log_model()</c> calls:
/// create (pending), upload through the artifact proxy to the model's <c>artifact_uri</c>, finalize; then tags, params,
/// search and delete. Request and response fields are mlflow/protos/service.proto's; errors MLflow's.
/// </summary>
public static class MlflowLoggedModelsApi
{
    public static IEndpointRouteBuilder MapMlflowLoggedModelsApi(this IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow", "/ajax-api/2.0/mlflow" })
        {
            var group = routes.MapGroup(prefix + "/logged-models").WithTags("MLflow logged models");
            group.MapPost("", CreateAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/search", SearchAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapGet("/{model_id}", GetAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapPatch("/{model_id}", FinalizeAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapDelete("/{model_id}", async (string model_id, LoggedModelStore models, CancellationToken cancellationToken) =>
            {
                await models.DeleteAsync(model_id, cancellationToken).ConfigureAwait(false);
                return TypedResults.Ok(new EmptyResponse());
            }).RequireAuthorization(BallastPolicies.Writer);
            group.MapPatch("/{model_id}/tags", SetTagsAsync).RequireAuthorization(BallastPolicies.Writer);
            // Tag keys may hold slashes, so the key is the rest of the path.
            group.MapDelete("/{model_id}/tags/{**tag_key}", async (string model_id, string tag_key, LoggedModelStore models, CancellationToken cancellationToken) =>
            {
                await models.DeleteTagAsync(model_id, tag_key, cancellationToken).ConfigureAwait(false);
                return TypedResults.Ok(new EmptyResponse());
            }).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/{model_id}/params", LogParamsAsync).RequireAuthorization(BallastPolicies.Writer);
        }

        return routes;
    }

    private static async Task<Ok<LoggedModelResponse>> CreateAsync(HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var model = await models.CreateAsync(
            request.RequiredString("experiment_id"),
            request.OptionalString("name") is { Length: > 0 } name ? name : null,
            request.OptionalString("model_type"),
            request.OptionalString("source_run_id"),
            request.Objects("params").Select(ReadParam).ToList(),
            request.Tags("tags"),
            http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new LoggedModelResponse(LoggedModelJson.From(model)));
    }

    private static async Task<Ok<LoggedModelResponse>> GetAsync(string model_id, HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var model = await models.GetAsync(model_id, request.OptionalBool("allow_deleted"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new LoggedModelResponse(LoggedModelJson.From(model)));
    }

    /// <summary><c>PATCH logged-models/{model_id}</c> <c>{model_id, status}</c>: the status by name or number, as protobuf's JSON parser takes it.</summary>
    private static async Task<Ok<LoggedModelResponse>> FinalizeAsync(string model_id, HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        EnsureSameModel(model_id, request);
        var value = request.EnumValue("status") is { Length: > 0 } given ? given
            : throw TrackingException.Invalid("Missing value for required parameter 'status'. See the API docs for more information about request parameters.");
        var status = LoggedModelStatuses.Parse(value)
                     ?? throw TrackingException.Invalid($"Invalid value '{value}' for parameter 'status': use {string.Join(" or ", LoggedModelStatuses.Final)} (or 2, 3).");
        var model = await models.FinalizeAsync(model_id, status, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new LoggedModelResponse(LoggedModelJson.From(model)));
    }

    /// <summary><c>PATCH logged-models/{model_id}/tags</c> <c>{tags: [{key, value}]}</c>; MLflow's handler answers with an empty body.</summary>
    private static async Task<Ok<EmptyResponse>> SetTagsAsync(string model_id, HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        EnsureSameModel(model_id, request);
        await models.SetTagsAsync(model_id, request.Tags("tags"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> LogParamsAsync(string model_id, HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        EnsureSameModel(model_id, request);
        await models.LogParamsAsync(model_id, request.Objects("params").Select(ReadParam).ToList(), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    /// <summary>
    /// <c>POST logged-models/search</c> <c>{experiment_ids, filter?, datasets?: [{dataset_name, dataset_digest?}],
    /// order_by?: [{field_name, ascending?, dataset_name?, dataset_digest?}], max_results?, page_token?}</c>.
    /// </summary>
    private static async Task<Ok<SearchLoggedModelsResponse>> SearchAsync(HttpRequest http, LoggedModelStore models)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var datasets = request.Objects("datasets").Select(dataset => new LoggedModelDataset(dataset.OptionalString("dataset_name") ?? "", NullIfEmpty(dataset.OptionalString("dataset_digest")))).ToList();
        var orderBy = request.Objects("order_by").Select(order => new LoggedModelOrder(
            order.RequiredString("field_name"), order.Bool("ascending", absent: true), NullIfEmpty(order.OptionalString("dataset_name")), NullIfEmpty(order.OptionalString("dataset_digest")))).ToList();
        var page = await models.SearchAsync(new LoggedModelSearch(
            request.StringList("experiment_ids"),
            request.OptionalString("filter"),
            orderBy,
            request.OptionalInt("max_results"),
            request.OptionalString("page_token"),
            datasets), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new SearchLoggedModelsResponse(page.Models.Count == 0 ? null : page.Models.Select(LoggedModelJson.From).ToList(), page.NextPageToken));
    }

    /// <summary>The body's <c>model_id</c>, when given, must be the path's: a request that names two models is refused, not half-applied.</summary>
    private static void EnsureSameModel(string pathModelId, MlflowRequest request)
    {
        if (request.OptionalString("model_id") is { Length: > 0 } bodyModelId && bodyModelId != pathModelId)
        {
            throw TrackingException.Invalid($"Invalid value '{bodyModelId}' for parameter 'model_id': the path names logged model '{pathModelId}'.");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static Param ReadParam(MlflowRequest request) => new(request.RequiredString("key"), request.OptionalString("value") ?? "");
}
