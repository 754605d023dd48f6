using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Tracking;

public sealed record RunInfoJson(string RunId, string RunUuid, string? RunName, string ExperimentId, string? UserId, string Status, long StartTime, long? EndTime, string ArtifactUri, string LifecycleStage)
{
    public static RunInfoJson From(RunInfo info) => new(info.RunId, info.RunId, info.RunName, info.ExperimentId, info.UserId, info.Status, info.StartTime, info.EndTime, info.ArtifactUri, info.LifecycleStage);
}

public sealed record MetricJson(string Key, double Value, long Timestamp, long Step);

public sealed record KeyValueJson(string Key, string? Value);

public sealed record RunDataJson(IReadOnlyList<MetricJson>? Metrics, IReadOnlyList<KeyValueJson>? Params, IReadOnlyList<KeyValueJson>? Tags);

public sealed record DatasetJson(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

public sealed record DatasetInputJson(IReadOnlyList<KeyValueJson>? Tags, DatasetJson Dataset);

public sealed record ModelInputJson(string ModelId);

public sealed record RunInputsJson(IReadOnlyList<DatasetInputJson>? DatasetInputs, IReadOnlyList<ModelInputJson>? ModelInputs = null);

public sealed record ModelOutputJson(string ModelId, long Step);

public sealed record RunOutputsJson(IReadOnlyList<ModelOutputJson>? ModelOutputs);

/// <summary>An MLflow run; <c>outputs</c> is always there (MLflow 3 clients read <c>run.outputs.model_outputs</c> when registering <c>runs:/</c> URIs).</summary>
public sealed record RunJson(RunInfoJson Info, RunDataJson Data, RunInputsJson Inputs, RunOutputsJson Outputs)
{
    public static RunJson From(Run run) => new(
        RunInfoJson.From(run.Info),
        new RunDataJson(
            NullIfEmpty(run.Data.Metrics.Select(metric => new MetricJson(metric.Key, metric.Value, metric.Timestamp, metric.Step)).ToList()),
            NullIfEmpty(run.Data.Params.Select(param => new KeyValueJson(param.Key, param.Value)).ToList()),
            NullIfEmpty(run.Data.Tags.Select(tag => new KeyValueJson(tag.Key, tag.Value)).ToList())),
        new RunInputsJson(NullIfEmpty(run.Inputs.Select(input => new DatasetInputJson(
            NullIfEmpty(input.Tags.Select(tag => new KeyValueJson(tag.Key, tag.Value)).ToList()),
            new DatasetJson(input.Dataset.Name, input.Dataset.Digest, input.Dataset.SourceType, input.Dataset.Source, input.Dataset.Schema, input.Dataset.Profile))).ToList()),
            NullIfEmpty(run.ModelInputs.Select(model => new ModelInputJson(model)).ToList())),
        new RunOutputsJson(NullIfEmpty(run.ModelOutputs.Select(output => new ModelOutputJson(output.ModelId, output.Step)).ToList())));

    // MLflow's JSON leaves out empty lists.
    private static List<T>? NullIfEmpty<T>(List<T> items) => items.Count == 0 ? null : items;
}

public sealed record RunResponse(RunJson Run);

public sealed record RunInfoResponse(RunInfoJson RunInfo);

public sealed record SearchRunsResponse(IReadOnlyList<RunJson>? Runs, string? NextPageToken);

public sealed record MetricHistoryResponse(IReadOnlyList<MetricJson> Metrics, string? NextPageToken);

/// <summary>MLflow REST runs and metric history (<c>/api/2.0/mlflow/runs/…</c>, <c>/metrics/get-history</c>).</summary>
public static class MlflowRunsApi
{
    public static IEndpointRouteBuilder MapMlflowRunsApi(this IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "/api/2.0/mlflow", "/ajax-api/2.0/mlflow" })
        {
            var group = routes.MapGroup(prefix).WithTags("MLflow runs");
            group.MapPost("/runs/create", CreateAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapGet("/runs/get", GetAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapPost("/runs/update", UpdateAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/delete", (HttpRequest http, RunStore runs) => WithRunAsync(http, (id, cancel) => runs.DeleteAsync(id, cancel))).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/restore", (HttpRequest http, RunStore runs) => WithRunAsync(http, (id, cancel) => runs.RestoreAsync(id, cancel))).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/log-metric", LogMetricAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/log-parameter", LogParameterAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/set-tag", SetTagAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/delete-tag", DeleteTagAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/log-batch", LogBatchAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/log-inputs", LogInputsAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/log-model", LogModelAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/outputs", LogOutputsAsync).RequireAuthorization(BallastPolicies.Writer);
            group.MapPost("/runs/search", SearchAsync).RequireAuthorization(BallastPolicies.Reader);
            group.MapGet("/metrics/get-history", GetHistoryAsync).RequireAuthorization(BallastPolicies.Reader);
        }

        return routes;
    }

    private static async Task<Ok<RunResponse>> CreateAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var run = await runs.CreateAsync(
            request.OptionalString("experiment_id") ?? ExperimentStore.DefaultExperimentId,
            request.OptionalString("user_id"),
            request.OptionalString("run_name"),
            request.OptionalLong("start_time"),
            request.Tags("tags"),
            http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new RunResponse(RunJson.From(run)));
    }

    private static async Task<Ok<RunResponse>> GetAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var run = await runs.GetAsync(request.RequiredString("run_id", "run_uuid"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new RunResponse(RunJson.From(run)));
    }

    private static async Task<Ok<RunInfoResponse>> UpdateAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var info = await runs.UpdateAsync(
            request.RequiredString("run_id", "run_uuid"), request.RunStatus("status"), request.OptionalLong("end_time"), request.OptionalString("run_name"),
            http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new RunInfoResponse(RunInfoJson.From(info)));
    }

    private static async Task<Ok<EmptyResponse>> WithRunAsync(HttpRequest http, Func<string, CancellationToken, Task> action)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await action(request.RequiredString("run_id"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> LogMetricAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await runs.LogBatchAsync(request.RequiredString("run_id", "run_uuid"), [ReadMetric(request)], [], [], http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> LogParameterAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await runs.LogBatchAsync(request.RequiredString("run_id", "run_uuid"), [], [ReadParam(request)], [], http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> SetTagAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await runs.LogBatchAsync(request.RequiredString("run_id", "run_uuid"), [], [], [ReadTag(request)], http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> DeleteTagAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        await runs.DeleteTagAsync(request.RequiredString("run_id"), request.RequiredString("key"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> LogBatchAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var runId = request.RequiredString("run_id");
        var metrics = request.Objects("metrics").Select(ReadMetric).ToList();
        var parameters = request.Objects("params").Select(ReadParam).ToList();
        var tags = request.Objects("tags").Select(ReadTag).ToList();
        await runs.LogBatchAsync(runId, metrics, parameters, tags, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> LogInputsAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var inputs = request.Objects("datasets").Select(input =>
        {
            var dataset = input.RequiredObject("dataset");
            return new DatasetInput(
                new DatasetDescription(dataset.RequiredString("name"), dataset.RequiredString("digest"), dataset.RequiredString("source_type"), dataset.RequiredString("source"),
                    dataset.OptionalString("schema"), dataset.OptionalString("profile")),
                input.Tags("tags"));
        }).ToList();
        var models = request.Objects("models").Select(model => model.RequiredString("model_id")).ToList();
        await runs.LogInputsAsync(request.RequiredString("run_id"), inputs, models, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    /// <summary><c>runs/outputs</c> <c>{run_id, models: [{model_id, step}]}</c>: the logged models a run produced (MLflow 3 <c>log_model()</c>).</summary>
    private static async Task<Ok<EmptyResponse>> LogOutputsAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var runId = request.RequiredString("run_id");
        var outputs = request.Objects("models").Select(model => new ModelOutput(model.RequiredString("model_id"), model.RequiredLong("step"))).ToList();
        await runs.LogOutputsAsync(runId, outputs, http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<SearchRunsResponse>> SearchAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var page = await runs.SearchAsync(new RunSearch(
            request.StringList("experiment_ids"),
            request.OptionalString("filter"),
            request.StringList("order_by"),
            request.OptionalInt("max_results"),
            request.OptionalString("page_token"),
            request.ViewType("run_view_type")), http.HttpContext.RequestAborted).ConfigureAwait(false);
        // MLflow leaves "runs" out when there are none.
        return TypedResults.Ok(new SearchRunsResponse(page.Runs.Count == 0 ? null : page.Runs.Select(RunJson.From).ToList(), page.NextPageToken));
    }

    /// <summary>
    /// One page when the client asks for <c>max_results</c> or passes a <c>page_token</c>; otherwise the whole history, as
    /// MLflow answers, streamed from the database cursor to the response so a history of millions of points needs no
    /// more memory than a few hundred.
    /// </summary>
    private static async Task<IResult> GetHistoryAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var runId = request.RequiredString("run_id", "run_uuid");
        var key = request.RequiredString("metric_key");
        var maxResults = request.OptionalInt("max_results");
        var pageToken = request.OptionalString("page_token");
        var cancellationToken = http.HttpContext.RequestAborted;
        if (maxResults is not null || !string.IsNullOrEmpty(pageToken))
        {
            var page = await runs.GetMetricHistoryAsync(runId, key, maxResults, pageToken, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new MetricHistoryResponse(page.Metrics.Select(metric => new MetricJson(metric.Key, metric.Value, metric.Timestamp, metric.Step)).ToList(), page.NextPageToken));
        }

        // The first step checks the run, so an unknown run still gets MLflow's 404 before any byte is written.
        var metrics = runs.StreamMetricHistoryAsync(runId, key, cancellationToken).GetAsyncEnumerator(cancellationToken);
        var any = await metrics.MoveNextAsync().ConfigureAwait(false);
        return new StreamedHistoryResult(metrics, any);
    }

    private sealed class StreamedHistoryResult(IAsyncEnumerator<Metric> metrics, bool any) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using var _ = metrics.ConfigureAwait(false);
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter.AsStream(), ApiJson.WriterOptions);
            writer.WriteStartObject();
            writer.WritePropertyName("metrics");
            writer.WriteStartArray();
            for (var hasCurrent = any; hasCurrent; hasCurrent = await metrics.MoveNextAsync().ConfigureAwait(false))
            {
                var metric = metrics.Current;
                JsonSerializer.Serialize(writer, new MetricJson(metric.Key, metric.Value, metric.Timestamp, metric.Step), ServerJsonContext.Default.MetricJson);
                if (writer.BytesPending > 32_768)
                {
                    await writer.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>A metric; MLflow 3 adds the logged model it measures (<c>model_id</c>) and the dataset (<c>dataset_name</c>, <c>dataset_digest</c>).</summary>
    private static Metric ReadMetric(MlflowRequest request) =>
        new(request.RequiredString("key"), request.RequiredDouble("value"), request.RequiredLong("timestamp"), request.OptionalLong("step") ?? 0)
        {
            ModelId = request.OptionalString("model_id") is { Length: > 0 } model ? model : null,
            DatasetName = request.OptionalString("dataset_name") is { Length: > 0 } name ? name : null,
            DatasetDigest = request.OptionalString("dataset_digest") is { Length: > 0 } digest ? digest : null,
        };

    private static Param ReadParam(MlflowRequest request) => new(request.RequiredString("key"), request.OptionalString("value") ?? "");

    /// <summary>MLflow's tag holding a run's logged models' MLmodel metadata, a JSON list (what <c>runs/log-model</c> appends to).</summary>
    public const string LoggedModelsTag = "mlflow.log-model.history";

    private static readonly string[] ModelFields = ["artifact_path", "flavors", "utc_time_created", "run_id"];

    /// <summary>
    /// <c>runs/log-model</c> (MLflow 2.x <c>log_model()</c>): appends the model's MLmodel metadata to the run's
    /// <see cref="LoggedModelsTag"/>, as MLflow's stores do (<c>record_logged_model</c>); the handler's check of the
    /// mandatory fields is MLflow's (<c>_log_model</c>).
    /// </summary>
    private static async Task<Ok<EmptyResponse>> LogModelAsync(HttpRequest http, RunStore runs)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var runId = request.RequiredString("run_id");
        var text = request.RequiredString("model_json");
        JsonObject model;
        try
        {
            model = JsonNode.Parse(text) as JsonObject ?? throw TrackingException.Invalid("model_json must be a JSON object (the MLmodel file as JSON).");
        }
        catch (JsonException exception)
        {
            throw TrackingException.Invalid($"Malformed model info. \n {text} \n is not a valid JSON: {exception.Message}");
        }

        if (ModelFields.Where(field => !model.ContainsKey(field)).ToList() is { Count: > 0 } missing)
        {
            throw TrackingException.Invalid($"Model json is missing mandatory fields: [{string.Join(", ", missing.Select(field => $"'{field}'"))}]");
        }

        var cancel = http.HttpContext.RequestAborted;
        var run = await runs.GetAsync(runId, cancel).ConfigureAwait(false);
        var history = run.Data.Tags.FirstOrDefault(tag => tag.Key == LoggedModelsTag)?.Value is { Length: > 0 } stored && JsonNode.Parse(stored) is JsonArray logged ? logged : [];
        history.Add(model);
        await runs.LogBatchAsync(runId, [], [], [new TrackingTag(LoggedModelsTag, history.ToJsonString())], cancel).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static TrackingTag ReadTag(MlflowRequest request) => new(request.RequiredString("key"), request.OptionalString("value") ?? "");
}
