using System.Globalization;
using System.Text.Json;
using Ballast.Server.Security;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Serving;

public sealed record FeedbackResponse(int Accepted);

/// <summary>
/// <c>POST /api/v1/feedback</c> (outcomes and rewards by prediction id, one or a batch) and
/// <c>GET /api/v1/predictions/export</c> (an endpoint's predictions with their feedback, as Parquet or CSV).
/// </summary>
public static class PredictionsApi
{
    /// <summary>The fields of one feedback item.</summary>
    private static readonly string[] ItemFields = ["prediction_id", "outcome", "reward"];

    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/v1/feedback", async (HttpContext http, FeedbackStore feedback, AssignmentStore bandits, EndpointRouter router) =>
        {
            Serialization.RequestMediaType.RequireJson(http.Request);
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            }
            catch (JsonException exception)
            {
                throw TrackingException.Invalid($"The body {Serialization.JsonSyntax.Problem(exception)}");
            }

            using (document)
            {
                var root = document.RootElement;
                var isBatch = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("feedback", out _);
                RefuseUnknownFields(root, isBatch);
                var items = isBatch
                    ? root.GetProperty("feedback") is { ValueKind: JsonValueKind.Array } batch
                        ? batch.EnumerateArray().Select((item, index) => Read(item, $"feedback[{index}]")).ToList()
                        : throw TrackingException.Invalid($"feedback must be a list of {{\"prediction_id\", \"outcome\"?, \"reward\"?}} objects, not {root.GetProperty("feedback").GetRawText()}.")
                    : [Read(root, "The body")];
                var accepted = await feedback.AddAsync(items, http.RequestAborted).ConfigureAwait(false);
                if ((items.Any(item => item.Reward is not null) && router.Endpoints.Values.Any(endpoint => endpoint.Bandit is not null))
                    || (items.Any(item => item.Outcome is not null) && router.Endpoints.Values.Any(endpoint => endpoint.EnsembleAdapt is not null)))
                {
                    // Bandits and adaptive ensembles here learn now; other replicas within their refresh interval.
                    await bandits.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                    await router.RefreshLearnedAsync(http.RequestAborted).ConfigureAwait(false);
                }

                return TypedResults.Ok(new FeedbackResponse(accepted));
            }
        }).WithTags("Predictions").WithSummary("Records outcomes and/or rewards for predictions: {prediction_id, outcome?, reward?} or {feedback: [...]}.")
            .RequireAuthorization(BallastPolicies.Writer);

        routes.MapGet("/api/v1/predictions/export", async (string? endpoint, string? from, string? to, string? format, string? layout,
            [FromQuery(Name = "feature_names")] string? featureNames, HttpContext http, PredictionExport export, EndpointStore endpoints, PredictionLog log) =>
        {
            if (string.IsNullOrEmpty(endpoint))
            {
                throw TrackingException.Invalid("Name the endpoint: ?endpoint=NAME (and optionally from, to, format=parquet|csv, layout=records|flat).");
            }

            var flat = (string.IsNullOrEmpty(layout) ? "records" : layout) switch
            {
                "records" => false,
                "flat" => true,
                _ => throw TrackingException.Invalid($"layout '{layout}' is not one of {string.Join(", ", PredictionExport.Layouts)}."),
            };
            var names = string.IsNullOrEmpty(featureNames) ? null
                : flat ? Ballast.Monitoring.WindowTable.ParseFeatureNames(featureNames)
                : throw TrackingException.Invalid("feature_names names the columns of layout=flat; the records layout keeps the tensors as they are.");

            // A deleted endpoint's log stays exportable; a name that never logged anything is a mistake, not an empty file.
            if (await endpoints.FindAsync(endpoint, http.RequestAborted).ConfigureAwait(false) is null
                && (await log.SegmentsAsync(endpoint, cancellationToken: http.RequestAborted).ConfigureAwait(false)).Count == 0)
            {
                throw TrackingException.NotFound($"Endpoint '{endpoint}' does not exist and has no logged predictions.");
            }

            var kind = string.IsNullOrEmpty(format) ? "parquet" : format;
            PredictionExport.CheckFormat(kind); // before it names the temporary file
            var file = Path.Combine(Path.GetTempPath(), $"ballast-export-{Guid.NewGuid():N}.{kind}");
            var (start, end) = (Time(from, "from"), Time(to, "to"));
            await (flat ? export.ExportFlatAsync(endpoint, start, end, kind, file, names, http.RequestAborted) : export.ExportAsync(endpoint, start, end, kind, file, http.RequestAborted))
                .ConfigureAwait(false);
            // The file is deleted when the response stream closes.
            var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81_920, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            return TypedResults.Stream(stream, kind == "csv" ? "text/csv" : "application/vnd.apache.parquet", $"{endpoint}-predictions.{kind}");
        }).WithTags("Predictions").WithSummary("An endpoint's predictions in [from, to] (ISO 8601 or Unix ms) with their feedback, in write order (timestamp, instance, sequence): "
            + "layout=records (default) as stored, one row per request; layout=flat one row per scored row, a column per feature (feature_names: a JSON object naming input tensors' columns).")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }

    /// <summary>
    /// Refuses fields a feedback body does not have (<c>outcom</c> beside a <c>reward</c> would otherwise be dropped in
    /// silence), every one at once and in the body's order, in the words of the other <c>/api/v1</c> bodies.
    /// </summary>
    private static void RefuseUnknownFields(JsonElement root, bool isBatch)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var problems = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (isBatch && property.Name == "feedback" && property.Value.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object)
                    {
                        problems.AddRange(item.EnumerateObject().Where(field => !ItemFields.Contains(field.Name))
                            .Select(field => $"feedback[{index}].{field.Name}: unknown field (known: {string.Join(", ", ItemFields)})"));
                    }

                    index++;
                }
            }
            else if (isBatch ? property.Name != "feedback" : !ItemFields.Contains(property.Name))
            {
                problems.Add($"{property.Name}: unknown field (known: {(isBatch ? "feedback" : string.Join(", ", ItemFields))})");
            }
        }

        if (problems.Count > 0)
        {
            throw problems.Count == 1
                ? TrackingException.Invalid($"The body is not the JSON this route takes: {problems[0]}.")
                : TrackingException.Invalid("The body is not the JSON this route takes", problems);
        }
    }

    private static Feedback Read(JsonElement item, string where)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw TrackingException.Invalid($"{where} must be an object {{\"prediction_id\", \"outcome\"?, \"reward\"?}}, not {item.GetRawText()}.");
        }

        var id = item.TryGetProperty("prediction_id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        string? outcome = null;
        if (item.TryGetProperty("outcome", out var outcomeElement) && outcomeElement.ValueKind != JsonValueKind.Null)
        {
            // Compared with the predicted label and averaged as a number, one value per row of the prediction: an object is neither.
            outcome = IsScalar(outcomeElement) || (outcomeElement.ValueKind == JsonValueKind.Array && outcomeElement.EnumerateArray().All(IsScalar))
                ? outcomeElement.GetRawText()
                : throw TrackingException.Invalid($"outcome must be a number, a string, true or false, or a list of them (one per row), not {outcomeElement.GetRawText()}.");
        }

        double? reward = null;
        if (item.TryGetProperty("reward", out var rewardElement) && rewardElement.ValueKind != JsonValueKind.Null)
        {
            reward = rewardElement.ValueKind == JsonValueKind.Number && rewardElement.TryGetDouble(out var value) && double.IsFinite(value)
                ? value
                : throw TrackingException.Invalid($"reward must be a number, not {rewardElement.GetRawText()}.");
        }

        return new Feedback(id ?? "", outcome, reward);
    }

    private static bool IsScalar(JsonElement value) => value.ValueKind is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False;

    private static long? Time(string? text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds()
            : throw TrackingException.Invalid($"'{name}' must be an ISO 8601 time (2026-11-25T12:00:00Z) or Unix milliseconds, not '{text}'.");
    }
}
