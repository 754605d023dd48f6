using System.Text.Json.Serialization;
using Ballast.Registry;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Serving;

/// <summary>An endpoint with what this replica serves for it: the model version behind each variant, or why it is not served.</summary>
public sealed record EndpointResponse(
    string Name,
    string Policy,
    IReadOnlyList<VariantSpec> Variants,
    IReadOnlyList<ShadowSpec>? Shadows,
    StickySpec? Sticky,
    string? Fallback,
    BanditSpec? Bandit,
    RegimeSpec? Regime,
    EnsembleSpec? Ensemble,
    long Revision,
    long CreatedAt,
    long UpdatedAt,
    EndpointStatus Status,
    ExpectationsSpec? Expectations = null,
    EndpointFeaturesSpec? Features = null,
    IReadOnlyList<string>? Warnings = null,
    BatchingSpec? Batching = null)
{
    public static EndpointResponse From(StoredEndpoint endpoint, EndpointRouter router)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(router);
        var spec = endpoint.Spec;
        var routed = router.Find(spec.Name);
        var problem = router.Problems.FirstOrDefault(problem => problem.Endpoint == spec.Name)?.Message;
        var current = routed is not null && routed.Endpoint.Revision == endpoint.Revision;
        return new EndpointResponse(spec.Name, spec.Policy ?? EndpointValidation.SplitPolicy, spec.Variants ?? [], spec.Shadows is { Count: > 0 } ? spec.Shadows : null, spec.Sticky, spec.Fallback, spec.Bandit, spec.Regime, spec.Ensemble,
            endpoint.Revision, endpoint.CreatedAt, endpoint.UpdatedAt,
            new EndpointStatus(current && problem is null, routed?.Endpoint.Revision,
                routed?.Variants.Select(variant => new ServedVariant(variant.Name, variant.Model.Reference, routed.Endpoint.Spec.Batching is null ? null : variant.Batcher is not null))
                    .Concat(routed.Shadows.Select(shadow => new ServedVariant(shadow.Name, shadow.Model.Reference))).ToList() ?? [], problem,
                routed?.Bandit is null ? null : routed.Arms.Select(arm => new ArmStatus(arm.Variant, arm.Pulls, arm.Rewarded, arm.MeanReward)).ToList(),
                routed?.Regime is { } regime ? RegimeStatus.From(routed, regime) : null,
                routed?.EnsembleAdapt is null ? null : EnsembleStatus.From(routed)),
            spec.Expectations, spec.Features,
            routed is not null && FeatureServiceCheck.Warnings(routed) is { Count: > 0 } warnings ? warnings : null, spec.Batching);
    }
}

/// <summary>
/// <c>ready</c> when this replica serves the stored revision with every model loaded; <c>serving</c> names the model
/// versions; <c>arms</c> is a bandit's learned state (predictions, rewarded predictions, mean reward) and <c>ensemble</c>
/// an adaptive ensemble's (its members' weights and record), as this replica last read them.
/// </summary>
public sealed record EndpointStatus(bool Ready, long? ServedRevision, IReadOnlyList<ServedVariant> Serving, string? Problem, IReadOnlyList<ArmStatus>? Arms = null, RegimeStatus? Regime = null,
    EnsembleStatus? Ensemble = null);

/// <summary>
/// An adaptive ensemble on this replica: whether its weights are learned yet (<c>adapted</c>; false while a member has
/// fewer outcomes than <c>min_feedback</c> in the window, or none is better than chance) and, per member, the weight in
/// use (the current regime's) with the predictions of the window that have an outcome and how many were right.
/// </summary>
public sealed record EnsembleStatus(bool Adapted, IReadOnlyList<MemberWeightStatus> Members)
{
    public static EnsembleStatus From(RoutedEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var current = (EnsembleRuntime)endpoint.Ensembles[Math.Min(endpoint.Regime?.Regime ?? 0, endpoint.Ensembles.Count - 1)].Model.Runtime;
        var accuracy = endpoint.MemberAccuracy;
        return new EnsembleStatus(current.Adapted, [.. current.Weights.Select(member => accuracy.FirstOrDefault(record => record.Member == member.Name) is { } record
            ? new MemberWeightStatus(member.Name, member.Weight, record.Labelled, record.Correct)
            : new MemberWeightStatus(member.Name, member.Weight, 0, 0))]);
    }
}

public sealed record MemberWeightStatus(string Variant, double Weight, long Labelled, long Correct);

/// <summary>A regime endpoint on this replica: the current regime (index into the thresholds' intervals), its variant and the last signal value.</summary>
public sealed record RegimeStatus(int Regime, string Variant, double? Signal)
{
    public static RegimeStatus From(RoutedEndpoint endpoint, RegimeState state)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(state);
        var variants = endpoint.Endpoint.Spec.Regime?.Variants;
        var variant = endpoint.Ensembles.Count > 0 ? endpoint.Ensembles[Math.Min(state.Regime, endpoint.Ensembles.Count - 1)].Model.Reference
            : variants is { Count: > 0 } ? variants[Math.Min(state.Regime, variants.Count - 1)] : endpoint.Variants[0].Name;
        return new RegimeStatus(state.Regime, variant,
            double.IsNaN(state.Signal) ? null : state.Signal);
    }
}

/// <summary>
/// An endpoint spec checked as a PUT would apply it, without storing it (<c>POST /api/v1/endpoints/{name}/dry-run</c>):
/// the spec with the defaults the server fills in, <c>ready</c> when it would be served, else the <c>problem</c> its
/// status would show, and the model version each variant and shadow would serve (those that resolved).
/// </summary>
public sealed record EndpointDryRunResponse(EndpointSpec Spec, bool Ready, string? Problem, IReadOnlyList<ServedVariant> Serving);

/// <summary>A value for a regime endpoint's signal: <c>{"name": "volatility", "value": 0.42}</c> (name defaults to the endpoint's signal).</summary>
public sealed record SignalRequest(string? Name, double? Value);

/// <summary>A bandit arm's state; <c>mean_reward</c> is null (written, not left out) until the arm's first reward.</summary>
public sealed record ArmStatus(string Variant, long Pulls, long Rewarded, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? MeanReward);

/// <summary>A served variant; <c>batched</c>, on an endpoint with batching, says whether its model's requests are batched (false: a model whose inputs or outputs have a fixed first dimension, or a remote one).</summary>
public sealed record ServedVariant(string Name, string Model, bool? Batched = null);

/// <summary>An endpoint's traffic per variant over a window (every replica's counts): requests, server errors, latency.</summary>
public sealed record TrafficResponse(string Endpoint, long From, long To, IReadOnlyList<VariantTrafficResponse> Variants);

/// <summary>
/// One variant's traffic: every request counts in <c>requests</c>, <c>errors</c> and the rates; <c>forced_requests</c> and
/// <c>forced_errors</c> are the part of them whose variant the <c>Ballast-Variant</c> header forced (what an experiment's
/// <c>error_rate</c> guardrail leaves out).
/// </summary>
public sealed record VariantTrafficResponse(string Variant, long Requests, long Errors, double ErrorRate, long Rejected, double RejectionRate, double LatencyMeanMs, double LatencyP50Ms, double LatencyP99Ms,
    long ForcedRequests, long ForcedErrors);

public sealed record SignalResponse(string Endpoint, string Signal, double Value, RegimeStatus? Status);

public sealed record EndpointListResponse(IReadOnlyList<EndpointResponse> Endpoints);

public sealed record RegisteredVersionResponse(string Name, string Version, string Source, string? RunId, string Flavor, SignatureJson Signature);

/// <summary>
/// <c>/api/v1/endpoints</c> (endpoint CRUD; every change is served by this replica before the answer, and by the
/// others within their refresh interval) and <c>POST /api/v1/models/{name}/versions</c> (register a model file).
/// </summary>
public static class EndpointsApi
{
    /// <summary>The validation of a spec whose endpoint the path names (PUT and dry run), for a body also refused for unknown fields.</summary>
    private static readonly BodyValidation NamedByPath = BodyValidation.NamedByPath<EndpointSpec>("endpoint", spec => spec.Name, (spec, name) => spec with { Name = name },
        (spec, _) => EndpointValidation.Validate(spec));

    public static IEndpointRouteBuilder MapEndpointsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/endpoints").WithTags("Endpoints");
        group.MapGet("/", async (EndpointStore endpoints, EndpointRouter router, CancellationToken cancellationToken) =>
            TypedResults.Ok(new EndpointListResponse((await endpoints.ListAsync(cancellationToken).ConfigureAwait(false)).Select(endpoint => EndpointResponse.From(endpoint, router)).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, EndpointStore endpoints, EndpointRouter router, CancellationToken cancellationToken) =>
            TypedResults.Ok(EndpointResponse.From(await endpoints.GetAsync(name, cancellationToken).ConfigureAwait(false), router)))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/", async (EndpointSpec spec, EndpointStore endpoints, EndpointRouter router, RegistryStore registry, CancellationToken cancellationToken) =>
        {
            await CheckFeatureServiceAsync(spec, registry, cancellationToken).ConfigureAwait(false);
            var created = await endpoints.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            await router.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/endpoints/{created.Spec.Name}", EndpointResponse.From(created, router));
        }).WithSummary("Creates an endpoint (409 when the name is taken).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.For<EndpointSpec>((spec, _) => EndpointValidation.Validate(spec)));
        group.MapPut("/{name}", async Task<Ok<EndpointResponse>> (string name, EndpointSpec spec, EndpointStore endpoints, EndpointRouter router, RegistryStore registry, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("endpoint", spec.Name, name);

            await CheckFeatureServiceAsync(spec with { Name = name }, registry, cancellationToken).ConfigureAwait(false);

            var (endpoint, _) = await endpoints.PutAsync(spec with { Name = name }, cancellationToken).ConfigureAwait(false);
            await router.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(EndpointResponse.From(endpoint, router));
        }).WithSummary("Creates or replaces an endpoint (idempotent).").RequireAuthorization(BallastPolicies.Writer).WithMetadata(NamedByPath);
        group.MapPost("/{name}/dry-run", async (string name, EndpointSpec spec, EndpointRouter router, RegistryStore registry, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("endpoint", spec.Name, name);

            var normalized = EndpointValidation.Validate(spec with { Name = name });
            await CheckFeatureServiceAsync(normalized, registry, cancellationToken).ConfigureAwait(false);
            var serving = new List<(string Variant, string Model)>();
            var problem = await router.CheckAsync(normalized, serving, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new EndpointDryRunResponse(normalized, problem is null, problem, [.. serving.Select(variant => new ServedVariant(variant.Variant, variant.Model))]));
        }).WithSummary("What a PUT of this spec would do, storing nothing: 400 as the PUT would refuse it; else the spec as stored, and whether it would be served (its models loaded and checked) or why not.")
            .RequireAuthorization(BallastPolicies.Writer).WithMetadata(NamedByPath);
        group.MapDelete("/{name}", async (string name, EndpointStore endpoints, EndpointRouter router, CancellationToken cancellationToken) =>
        {
            await endpoints.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            await router.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).RequireAuthorization(BallastPolicies.Writer);

        group.MapGet("/{name}/traffic", async (string name, long? from, long? to, EndpointStore endpoints, TrafficStats traffic, TimeProvider time, CancellationToken cancellationToken) =>
        {
            await endpoints.GetAsync(name, cancellationToken).ConfigureAwait(false);
            var until = to ?? time.GetUtcNow().ToUnixTimeMilliseconds();
            var since = from ?? until - (5 * 60_000);
            var window = await traffic.WindowAsync(name, since, until, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new TrafficResponse(name, since, until, window.Select(variant => new VariantTrafficResponse(
                variant.Variant, variant.Requests, variant.Errors, variant.ErrorRate, variant.Rejected, variant.RejectionRate, variant.LatencyMeanMs, variant.LatencyP50Ms, variant.LatencyP99Ms,
                variant.ForcedRequests, variant.ForcedErrors)).ToList()));
        }).WithSummary("Requests, server errors and latency per variant over [from, to] (Unix ms; default the last 5 minutes), from every replica (written every second), with the part of them forced by the Ballast-Variant header.")
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/{name}/signals", async (string name, SignalRequest body, EndpointStore endpoints, EndpointRouter router, CancellationToken cancellationToken) =>
        {
            var spec = (await endpoints.GetAsync(name, cancellationToken).ConfigureAwait(false)).Spec;
            if (spec.Regime?.Signal is not { } signal)
            {
                throw TrackingException.Invalid($"Endpoint '{name}' listens to no signal: give it policy regime with regime.signal and thresholds.");
            }

            if (body.Name is { } given && given != signal)
            {
                throw TrackingException.Invalid($"Endpoint '{name}' listens to signal '{signal}', not '{given}'.");
            }

            if (body.Value is not { } value || !double.IsFinite(value))
            {
                throw TrackingException.Invalid("Give the signal's 'value' as a finite number.");
            }

            var posted = await endpoints.PostSignalAsync(name, signal, value, cancellationToken).ConfigureAwait(false);
            // This replica switches now (hysteresis and dwell permitting); the others within their refresh interval.
            var routed = router.Find(name);
            routed?.Regime?.Post(posted.Value, posted.PostedAt);
            return TypedResults.Ok(new SignalResponse(name, signal, value, routed?.Regime is { } regime ? RegimeStatus.From(routed, regime) : null));
        }).WithSummary("Posts a value of a regime endpoint's signal; the regime switches past a threshold (with hysteresis and dwell).").RequireAuthorization(BallastPolicies.Writer);

        routes.MapPost("/api/v1/models/{name}/versions", RegisterAsync).WithTags("Models")
            .WithSummary("Registers a model file (multipart: file, flavor?, run_id?, description?, feature_service?) as a new version, with its signature.")
            .WithMetadata(new DisableRequestSizeLimitAttribute(), new RequestFormLimitsAttribute { MultipartBodyLengthLimit = long.MaxValue })
            .DisableAntiforgery().RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }

    /// <summary>
    /// Refuses (400) an endpoint whose feature service differs from one its routed model versions were trained on,
    /// naming each variant, version and both services; the spec's own problems come first, all at once.
    /// </summary>
    private static async Task CheckFeatureServiceAsync(EndpointSpec spec, RegistryStore registry, CancellationToken cancellationToken)
    {
        var validated = EndpointValidation.Validate(spec);
        if (await FeatureServiceCheck.MismatchesAsync(validated, registry, cancellationToken).ConfigureAwait(false) is { Count: > 0 } mismatches)
        {
            throw TrackingException.Invalid($"Invalid endpoint '{validated.Name}': {ProblemList.Join(mismatches.Select(mismatch => mismatch.Message))}. "
                + $"Route to versions registered with feature service '{validated.Features!.Service}' (or with none), or change features.service.");
        }
    }

    private static async Task<Created<RegisteredVersionResponse>> RegisterAsync(string name, HttpRequest request, RegistryStore registry, Ballast.Storage.IArtifactStore artifacts)
    {
        if (!request.HasFormContentType)
        {
            throw TrackingException.Invalid("Send the model as multipart/form-data with a 'file' part (and optional flavor, run_id, description).");
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        var file = form.Files.GetFile("file") ?? throw TrackingException.Invalid("The form has no 'file' part holding the model.");
        var flavor = form["flavor"].ToString() is { Length: > 0 } given ? given : null;
        var runId = form["run_id"].ToString() is { Length: > 0 } run ? run : null;
        var description = form["description"].ToString() is { Length: > 0 } text ? text : null;
        var featureService = form["feature_service"].ToString() is { Length: > 0 } service ? service : null;
        if (featureService is not null)
        {
            // Refused before anything is stored: the service must exist.
            request.HttpContext.RequestServices.GetRequiredService<Ballast.Features.FeatureStore>().Catalog.Service(featureService);
        }

        await using var content = file.OpenReadStream();
        var version = await new ModelRegistration(registry, artifacts).RegisterAsync(name, content, file.FileName, flavor, runId, description, featureService, request.HttpContext.RequestAborted).ConfigureAwait(false);

        var signature = version.Tags.FirstOrDefault(tag => tag.Key == ModelRegistration.SignatureTag)?.Value;
        return TypedResults.Created($"/api/2.0/mlflow/model-versions/get?name={Uri.EscapeDataString(name)}&version={version.Version}",
            new RegisteredVersionResponse(version.Name, version.Version, version.Source, version.RunId,
                version.Tags.First(tag => tag.Key == ModelRegistration.FlavorTag).Value!,
                signature is null ? new SignatureJson([], []) : System.Text.Json.JsonSerializer.Deserialize(signature, Serialization.ServerJsonContext.Default.SignatureJson)!));
    }
}
