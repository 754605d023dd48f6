using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ballast.Runtime;
using Ballast.Security;
using Ballast.Server.Security;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Scoring: the Open Inference Protocol (V2) under <c>/v2</c> and MLflow's <c>/endpoints/{name}/invocations</c>.
/// A request is routed by the endpoint's snapshot (no database call), answered by the chosen variant's model (or the
/// fallback when it fails), and carries <c>Ballast-Model-Version</c> and <c>Ballast-Prediction-Id</c> headers. An
/// endpoint's feature service enriches the request first (<see cref="Features.ServingFeatures"/>), then its data-quality
/// expectations are checked (<see cref="ServingExpectations"/>).
/// </summary>
public static partial class InferenceApi
{
    public const string ModelVersionHeader = "Ballast-Model-Version";
    public const string PredictionIdHeader = "Ballast-Prediction-Id";
    public const string VariantHeader = "Ballast-Variant";

    private static readonly Counter Fallbacks = Metrics.CreateCounter("ballast_inference_fallbacks_total", "Requests the fallback variant answered because the chosen variant failed.",
        new CounterConfiguration { LabelNames = ["endpoint", "failed_variant"] });

    private static readonly Gauge InFlight = Metrics.CreateGauge("ballast_inference_in_flight", "Scoring requests being processed.");

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder routes)
    {
        var v2 = routes.MapGroup("/v2").WithTags("Inference (V2)");
        v2.MapGet("/health/live", () => TypedResults.Ok(new LiveResponse(true))).AllowAnonymous();
        v2.MapGet("/health/ready", (EndpointRouter router) => router.Ready
            ? Results.Ok(new ReadyResponse(true))
            : Results.Json(new ReadyResponse(false), Serialization.ApiJson.Context.ReadyResponse, statusCode: StatusCodes.Status503ServiceUnavailable)).AllowAnonymous();
        v2.MapGet("/", () => TypedResults.Ok(new ServerMetadataResponse("ballast", BallastVersion.Current, []))).RequireAuthorization(BallastPolicies.Reader);
        v2.MapGet("/models/{name}", (string name, EndpointRouter router) =>
            {
                var endpoint = Find(router, name);
                return TypedResults.Ok(Metadata(endpoint, endpoint.Variants));
            })
            .WithSummary("The endpoint's inputs and outputs (from its first variant's model) and its variants.").RequireAuthorization(BallastPolicies.Reader);
        v2.MapGet("/models/{name}/ready", (string name, EndpointRouter router) => ModelReady(router, name, null))
            .WithSummary("Whether the endpoint takes requests: 200 when served, 503 with ready false when it exists but is not served.").RequireAuthorization(BallastPolicies.Reader);
        v2.MapGet("/models/{name}/versions/{variant}", (string name, string variant, EndpointRouter router) =>
            {
                var endpoint = Find(router, name);
                return TypedResults.Ok(Metadata(endpoint, [Variant(endpoint, variant)]));
            })
            .WithSummary("One variant's inputs and outputs (from its model).").RequireAuthorization(BallastPolicies.Reader);
        v2.MapGet("/models/{name}/versions/{variant}/ready", (string name, string variant, EndpointRouter router) => ModelReady(router, name, variant))
            .RequireAuthorization(BallastPolicies.Reader);
        v2.MapPost("/models/{name}/infer", (string name, HttpContext http, EndpointRouter router, PredictionLog log, TimeProvider time) => InferAsync(name, null, http, router, log, time))
            .WithSummary("Scores with the variant the endpoint's policy picks.").RequireAuthorization(BallastPolicies.Reader);
        v2.MapPost("/models/{name}/versions/{variant}/infer", (string name, string variant, HttpContext http, EndpointRouter router, PredictionLog log, TimeProvider time) => InferAsync(name, variant, http, router, log, time))
            .WithSummary("Scores with one variant of the endpoint.").RequireAuthorization(BallastPolicies.Reader);

        routes.MapPost("/endpoints/{name}/invocations", (string name, HttpContext http, EndpointRouter router, PredictionLog log, TimeProvider time) => MlflowScoring.InvokeAsync(name, http, router, log, time))
            .WithTags("Inference (MLflow)").WithSummary("MLflow's scoring protocol: dataframe_split, dataframe_records, instances, inputs or CSV.")
            .RequireAuthorization(BallastPolicies.Reader);
        routes.MapGet("/ping", () => Results.Text("\n")).WithTags("Inference (MLflow)").AllowAnonymous();
        return routes;
    }

    /// <summary>Whether <paramref name="path"/> is a scoring request (V2 inference or MLflow invocations).</summary>
    public static bool IsScoringPath(PathString path) =>
        path.StartsWithSegments("/v2", StringComparison.Ordinal) || (path.StartsWithSegments("/endpoints", StringComparison.Ordinal) && path.Value!.EndsWith("/invocations", StringComparison.Ordinal));

    internal static RoutedEndpoint Find(EndpointRouter router, string name)
    {
        if (router.Find(name) is { } endpoint)
        {
            return endpoint;
        }

        var problem = router.Problems.FirstOrDefault(problem => problem.Endpoint == name);
        throw TrackingException.NotFound(problem is null
            ? $"Endpoint '{name}' does not exist."
            : $"Endpoint '{name}' is not served: {problem.Message}");
    }

    /// <summary>
    /// A model's readiness (the protocol's model ready check): ready when the endpoint is served (and has the variant a
    /// versioned route names); an endpoint that exists but is not served (its model cannot be loaded, an alias not set
    /// yet) is not ready, answered 503 with <c>ready: false</c> as KServe answers for a model that is not ready; an
    /// endpoint that does not exist is a 404.
    /// </summary>
    private static Results<Ok<ModelReadyResponse>, JsonHttpResult<ModelReadyResponse>> ModelReady(EndpointRouter router, string name, string? variant)
    {
        if (router.Find(name) is null && router.Problems.Any(problem => problem.Endpoint == name))
        {
            return TypedResults.Json(new ModelReadyResponse(name, false), Serialization.ApiJson.Context.ModelReadyResponse, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var endpoint = Find(router, name);
        if (variant is not null)
        {
            _ = Variant(endpoint, variant);
        }

        return TypedResults.Ok(new ModelReadyResponse(endpoint.Name, true));
    }

    /// <summary>What a request without a row is told (zero rows in V2's first dimension, an empty dataframe, list or CSV).</summary>
    internal const string NoRows = "The request has no rows; send at least one row to score.";

    /// <summary>
    /// Refuses a request with no row to score (an input whose first dimension is 0) before it is scored, so nothing is
    /// answered for it and nothing is logged; a scalar input (no dimensions) is one value, not a batch.
    /// </summary>
    internal static void RequireRows(IReadOnlyList<Tensor> inputs)
    {
        for (var i = 0; i < inputs.Count; i++) // not foreach: an interface's enumerator is an allocation per request
        {
            if (inputs[i].Shape is [0, ..])
            {
                throw TrackingException.Invalid(NoRows);
            }
        }
    }

    private static RoutedVariant Variant(RoutedEndpoint endpoint, string name) => endpoint.Find(name) ?? throw TrackingException.NotFound(
        $"Endpoint '{endpoint.Name}' has no variant '{name}'; it has {string.Join(", ", endpoint.Variants.Select(v => v.Name))}.");

    /// <summary>
    /// Picks the variant (pinned by the route, forced by the <c>Ballast-Variant</c> header for writers, else the policy),
    /// runs it, counts it, and sets the response headers; the caller writes the body.
    /// </summary>
    internal static async Task<Scored> ScoreAsync(RoutedEndpoint endpoint, string? pinned, HttpContext http, IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs, TimeProvider time)
    {
        RoutedVariant variant;
        string? routingKey = null;
        var chosen = false;
        var forced = http.Request.Headers[VariantHeader].ToString();
        if (pinned is not null || forced.Length > 0)
        {
            var name = pinned ?? forced;
            if (pinned is null && (BallastClaims.RoleOf(http.User) ?? ApiKeyRole.Reader) < ApiKeyRole.Writer)
            {
                // The key's name and role, never the key: as a failed role policy says it (BallastAuthorizationResultHandler).
                throw new ForbiddenException($"Forcing a variant with {VariantHeader} needs the role 'writer' or higher; " +
                    $"this API key ('{BallastClaims.NameOf(http.User)}') has the role '{BallastClaims.RoleOf(http.User)?.ToName() ?? "none"}'.");
            }

            variant = Variant(endpoint, name);
        }
        else
        {
            var key = endpoint.StickyHeader is { } header ? http.Request.Headers[header].ToString() : "";
            routingKey = key.Length > 0 ? key : null;
            variant = endpoint.Choose(routingKey, Random.Shared, inputs);
            chosen = true;
        }

        // A variant forced by the header (a writer testing it) is served, but no unit of an experiment: it is logged and
        // counted as forced, whichever variant failed or answered.
        var isForced = pinned is null && !chosen;
        var traffic = http.RequestServices.GetRequiredService<TrafficStats>();
        var started = Stopwatch.GetTimestamp();
        InFlight.Inc();
        try
        {
            var invocation = await endpoint.InvokeAsync(variant, inputs, outputs, http.RequestAborted).ConfigureAwait(false);
            if (invocation.FailedVariant is { } failed)
            {
                Fallbacks.WithLabels(endpoint.Name, failed.Name).Inc();
                traffic.Record(endpoint.Name, failed.Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, error: true, forced: isForced);
                LogFallback(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InferenceApi).FullName!), endpoint.Name, failed.Name, invocation.Variant.Name, invocation.Failure);
            }

            var answered = invocation.Variant;
            var elapsed = Stopwatch.GetElapsedTime(started);
            ServingMetrics.ObserveAnswer(endpoint.Name, answered, elapsed, invocation.Outputs);
            traffic.Record(endpoint.Name, answered.Name, elapsed.TotalMilliseconds, error: false, forced: isForced);
            var now = time.GetUtcNow();
            var id = PredictionIds.NewId(now);
            var predictionId = id.ToString();
            http.Response.Headers[ModelVersionHeader] = answered.Model.Reference;
            http.Response.Headers[PredictionIdHeader] = predictionId;
            http.Response.Headers[VariantHeader] = answered.Name;
            if (endpoint.RecordsAssignments)
            {
                // Feedback finds the variant (and what it predicted) by prediction id; the arm the policy chose learns
                // from its reward (forced and pinned requests do not teach a bandit, but count for the variant's accuracy).
                http.RequestServices.GetRequiredService<AssignmentStore>().Enqueue(id, endpoint.Name, answered.Name, now.ToUnixTimeMilliseconds(), invocation.Outputs,
                    banditArm: chosen && endpoint.Bandit is not null);
            }

            if (invocation.Members is { } members)
            {
                // An adaptive ensemble learns its members' weights from how each one's own answer fares against the outcomes.
                http.RequestServices.GetRequiredService<AssignmentStore>().EnqueueMembers(predictionId, endpoint.Name, now.ToUnixTimeMilliseconds(), members);
            }

            return new Scored(invocation, predictionId, elapsed.TotalMilliseconds, routingKey, Forced: isForced);
        }
        catch (Exception exception)
        {
            ServingMetrics.Requests.WithLabels(endpoint.Name, variant.Name, variant.Model.Reference, exception switch { ModelInputException => "400", RemoteModelException => "502", _ => "500" }).Inc();
            // A client's bad input is not the variant's failure; anything else is.
            traffic.Record(endpoint.Name, variant.Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                error: exception is not ModelInputException, rejected: exception is ModelInputException, forced: isForced);
            throw;
        }
        finally
        {
            InFlight.Dec();
        }
    }

    private static async Task InferAsync(string name, string? pinned, HttpContext http, EndpointRouter router, PredictionLog log, TimeProvider time)
    {
        var endpoint = Find(router, name);
        Serialization.RequestMediaType.RequireJson(http.Request);
        using var document = await ReadJsonAsync(http).ConfigureAwait(false);
        var request = V2Codec.ReadRequest(document.RootElement);
        RequireRows(request.Inputs);
        var inputs = await Features.ServingFeatures.EnrichAsync(endpoint, http, request.Inputs).ConfigureAwait(false);
        var flagged = ServingExpectations.Check(endpoint, http, inputs.Model);
        var scored = await ScoreAsync(endpoint, pinned, http, inputs.Model, request.Outputs, time).ConfigureAwait(false);
        // The outputs are written twice, to the response and to the log: encoded once (their numbers formatted once).
        var outputs = TensorJson.Encode(scored.Invocation.Outputs);
        await LogAsync(log, endpoint, scored, inputs.Logged, time, http.RequestAborted, flagged, outputs).ConfigureAwait(false);
        ShadowTraffic.AfterResponse(http, endpoint, scored, inputs.Model, log, time);

        http.Response.ContentType = "application/json";
        WriteResponse(http.Response.BodyWriter, endpoint, request, scored, outputs);
    }

    // One JSON writer per thread, reset onto each response's pipe: the body is written straight into Kestrel's buffers
    // (no stream adapter, no writer allocated per request); the server sends it when the request ends.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static void WriteResponse(System.IO.Pipelines.PipeWriter body, RoutedEndpoint endpoint, V2Request request, Scored scored, byte[] outputs)
    {
        var writer = t_writer ??= new Utf8JsonWriter(body, Serialization.ApiJson.WriterOptions);
        writer.Reset(body);
        writer.WriteStartObject();
        writer.WriteString(Names.ModelName, endpoint.Name);
        Span<char> version = stackalloc char[20];
        scored.Invocation.Variant.Model.Version.TryFormat(version, out var digits, default, CultureInfo.InvariantCulture);
        writer.WriteString(Names.ModelVersion, version[..digits]);
        if (request.Id is not null)
        {
            writer.WriteString(Names.Id, request.Id);
        }

        writer.WriteStartObject(Names.Parameters);
        writer.WriteString(Names.PredictionId, scored.PredictionId);
        writer.WriteString(Names.Variant, scored.Invocation.Variant.Name);
        writer.WriteString(Names.Model, scored.Invocation.Variant.Model.Reference);
        writer.WriteEndObject();
        writer.WritePropertyName(Names.Outputs);
        writer.WriteRawValue(outputs, skipInputValidation: true);
        writer.WriteEndObject();
        writer.Flush();
        writer.Reset(Stream.Null);
    }

    /// <summary>The response's property names, encoded once (the same bytes as writing the names).</summary>
    private static class Names
    {
        public static readonly JsonEncodedText ModelName = JsonEncodedText.Encode("model_name");
        public static readonly JsonEncodedText ModelVersion = JsonEncodedText.Encode("model_version");
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText Parameters = JsonEncodedText.Encode("parameters");
        public static readonly JsonEncodedText PredictionId = JsonEncodedText.Encode("prediction_id");
        public static readonly JsonEncodedText Variant = JsonEncodedText.Encode("variant");
        public static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");
        public static readonly JsonEncodedText Outputs = JsonEncodedText.Encode("outputs");
    }

    internal static async Task<JsonDocument> ReadJsonAsync(HttpContext http)
    {
        try
        {
            return await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException exception)
        {
            throw new ModelInputException($"the body {Serialization.JsonSyntax.Problem(exception)}");
        }
    }

    /// <summary>The metadata of <paramref name="variants"/> (all of an endpoint's, or the one a versioned route names): inputs and outputs from the first's model.</summary>
    private static ModelMetadataResponse Metadata(RoutedEndpoint endpoint, IReadOnlyList<RoutedVariant> variants)
    {
        var model = variants[0].Model;
        return new ModelMetadataResponse(
            endpoint.Name,
            variants.Select(variant => variant.Name).ToList(),
            model.Flavor == ModelFlavors.Onnx ? "onnxruntime_onnx" : model.Flavor,
            model.Runtime.Signature.Inputs.Select(spec => new TensorMetadata(spec.Name, spec.Datatype, spec.Shape)).ToList(),
            model.Runtime.Signature.Outputs.Select(spec => new TensorMetadata(spec.Name, spec.Datatype, spec.Shape)).ToList(),
            variants.Select(variant => new VariantMetadata(variant.Name, variant.Source, variant.Model.Reference, variant.Weight)).ToList());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {Endpoint}: variant {Failed} failed, fallback {Fallback} answered: {Reason}")]
    private static partial void LogFallback(ILogger logger, string endpoint, string failed, string fallback, string? reason);

    /// <summary>A scored request; <paramref name="Forced"/> when the <c>Ballast-Variant</c> header chose its variant (logged with kind <c>forced</c>).</summary>
    internal sealed record Scored(Invocation Invocation, string PredictionId, double LatencyMs, string? RoutingKey, bool Forced = false);

    /// <summary>
    /// Appends the scored request to the prediction log (kind <c>primary</c>, or <c>forced</c> for a variant forced by
    /// the header); returns when it is in the write-ahead file (or was shed, counted).
    /// </summary>
    internal static async Task LogAsync(PredictionLog log, RoutedEndpoint endpoint, Scored scored, IReadOnlyList<Tensor> inputs, TimeProvider time, CancellationToken cancellationToken, string? flagged = null, byte[]? encodedOutputs = null)
    {
        var variant = scored.Invocation.Variant;
        await log.AppendAsync(new PredictionRecord(scored.PredictionId, endpoint.Name, variant.Name, variant.Model.Reference, time.GetUtcNow().ToUnixTimeMilliseconds(),
            scored.LatencyMs, scored.RoutingKey, inputs, scored.Invocation.Outputs, scored.Forced ? PredictionRecord.Forced : PredictionRecord.Primary, flagged)
        {
            EncodedOutputs = encodedOutputs,
        }, cancellationToken).ConfigureAwait(false);
    }
}

public sealed record LiveResponse(bool Live);

public sealed record ReadyResponse(bool Ready);

public sealed record ModelReadyResponse(string Name, bool Ready);

public sealed record ServerMetadataResponse(string Name, string Version, IReadOnlyList<string> Extensions);

public sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

public sealed record VariantMetadata(string Name, string Model, string Serving, int Weight);

public sealed record ModelMetadataResponse(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs, IReadOnlyList<VariantMetadata> Variants);
