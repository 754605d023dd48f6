using System.Text.Json;
using Ballast.Experiments;
using Ballast.Features;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Experiments;

/// <summary>
/// An A/B experiment as the API shows it: its spec (defaults filled in), when it started, its status (<c>running</c>,
/// <c>stopped</c>, <c>concluded</c>), when and by whom data collection stopped, and the decision that concluded it.
/// </summary>
public sealed record AbExperimentResponse(AbExperimentSpec Experiment, long StartedAt, string Status = AbExperimentStatuses.Running, long? StoppedAt = null, string? StoppedBy = null,
    AbExperimentConclusion? Conclusion = null)
{
    public static AbExperimentResponse From(StoredAbExperiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        return new AbExperimentResponse(experiment.Spec, experiment.StartedAt, experiment.Status, experiment.StoppedAt, experiment.StoppedBy, experiment.Conclusion);
    }
}

public sealed record AbExperimentListResponse(IReadOnlyList<AbExperimentResponse> Experiments);

/// <summary>
/// One KPI value (<c>name</c>, <c>value</c>, and <c>prediction_id</c> or <c>routing_key</c>, and/or the <c>entity</c> it
/// describes for feature views: a string or a number, read as the entity of the views that read the KPI reads its keys),
/// or a batch under <c>kpis</c>.
/// </summary>
public sealed record KpiRequest(string? Name, double? Value, string? PredictionId, string? RoutingKey, IReadOnlyList<KpiRequest>? Kpis, JsonElement? Entity = null);

public sealed record KpiResponse(int Accepted);

/// <summary><c>/api/v1/experiments</c>: A/B experiments on endpoints' variants and their results from the prediction log and feedback.</summary>
public static class AbExperimentsApi
{
    public static IEndpointRouteBuilder MapAbExperimentsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/experiments").WithTags("Experiments");
        group.MapPost("/", async (AbExperimentSpec spec, AbExperimentStore experiments, CancellationToken cancellationToken) =>
        {
            var created = await experiments.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/experiments/{created.Spec.Name}", AbExperimentResponse.From(created));
        }).WithSummary("Starts an experiment on an endpoint's variants (409 when the name is taken).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.For<AbExperimentSpec>((spec, _) => AbExperimentValidation.Validate(spec)));
        group.MapPut("/{name}", async (string name, AbExperimentSpec spec, AbExperimentStore experiments, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("experiment", spec.Name, name);

            var (experiment, _) = await experiments.PutAsync(spec with { Name = name }, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(AbExperimentResponse.From(experiment));
        }).WithSummary("Creates or changes an experiment (idempotent; a change keeps its start; 409 once it is stopped).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.NamedByPath<AbExperimentSpec>("experiment", spec => spec.Name, (spec, name) => spec with { Name = name }, (spec, _) => AbExperimentValidation.Validate(spec)));
        group.MapGet("/", async (AbExperimentStore experiments, CancellationToken cancellationToken) =>
            TypedResults.Ok(new AbExperimentListResponse((await experiments.ListAsync(cancellationToken).ConfigureAwait(false)).Select(AbExperimentResponse.From).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, AbExperimentStore experiments, CancellationToken cancellationToken) =>
        {
            var experiment = await experiments.GetAsync(name, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(AbExperimentResponse.From(experiment));
        }).RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/{name}/stop", async (string name, AbExperimentStore experiments, HttpContext context, CancellationToken cancellationToken) =>
            TypedResults.Ok(AbExperimentResponse.From(await experiments.StopAsync(name, Actor(context), cancellationToken).ConfigureAwait(false))))
            .WithSummary("Ends data collection now: results count [start, stopped_at] from then on (409 when already stopped).").RequireAuthorization(BallastPolicies.Writer);
        group.MapPost("/{name}/conclude", async (string name, AbExperimentDecision decision, AbExperimentStore experiments, HttpContext context, CancellationToken cancellationToken) =>
            TypedResults.Ok(AbExperimentResponse.From(await experiments.ConcludeAsync(name, decision, Actor(context), cancellationToken).ConfigureAwait(false))))
            .WithSummary("Records the decision {winner: VARIANT | null, reason, apply}: who, when, the results now; apply routes 100% of the endpoint's traffic to the winner (409 when already concluded).")
            .RequireAuthorization(BallastPolicies.Writer);
        group.MapGet("/{name}/results", async (string name, AbExperimentStore experiments, CancellationToken cancellationToken) =>
            TypedResults.Ok(await experiments.ResultsAsync(name, cancellationToken).ConfigureAwait(false)))
            .WithSummary("Per variant: units, mean with CI, lifts with CI, p-value or chance to win; SRM; the decision.").RequireAuthorization(BallastPolicies.Reader);
        group.MapDelete("/{name}", async (string name, AbExperimentStore experiments, CancellationToken cancellationToken) =>
        {
            await experiments.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).RequireAuthorization(BallastPolicies.Writer);

        routes.MapPost("/api/v1/kpis", async (KpiRequest body, KpiStore kpis, FeatureStore features, CancellationToken cancellationToken) =>
        {
            var items = body.Kpis ?? [body];
            var catalog = features.Catalog;
            var problems = new List<string>();
            if (body.Kpis is not null && Given(body) is { Count: > 0 } beside)
            {
                // Either one value or a batch: the value beside a batch would otherwise be dropped without a word.
                problems.Add($"give one KPI value (name, value, ...) or a batch of them under kpis, not both: {string.Join(", ", beside)} beside kpis would not be recorded");
            }

            var values = new List<Kpi>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                if (body.Kpis is not null && item.Kpis is not null)
                {
                    problems.Add($"item {i}: kpis: a batch's item is one value, with no kpis of its own");
                }

                // An entity refused here (a problem already) stands as written, so the store's checks do not call it missing.
                var entity = Entity(catalog, item, i, problems) ?? (item.Entity is { ValueKind: not JsonValueKind.Null } given ? given.GetRawText() : null);
                values.Add(new Kpi(item.Name ?? "", item.Value ?? double.NaN, item.PredictionId, item.RoutingKey, entity));
            }

            if (problems.Count > 0)
            {
                // With what the store would refuse too, so one answer names everything to fix.
                throw Ballast.Tracking.TrackingException.Invalid("Invalid KPIs", [.. problems, .. KpiStore.Problems(values)]);
            }

            return TypedResults.Ok(new KpiResponse(await kpis.AddAsync(values, cancellationToken).ConfigureAwait(false)));
        }).WithTags("Experiments").WithSummary("Records business KPI values for predictions, routing keys or entities: {name, value, prediction_id | routing_key, entity?} or {kpis: [...]}.")
            .RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }

    /// <summary>
    /// A KPI value's entity key as the online store holds keys (<see cref="EntityKeys"/>): for the entity of a view that
    /// reads the KPI (an <c>int64</c> one's <c>1</c>, <c>1.0</c> and <c>"1"</c> are key 1, its <c>1.5</c> a problem);
    /// read by none yet, text as sent and a number as written (a view that reads it later takes it as its entity does).
    /// </summary>
    private static string? Entity(FeatureCatalog catalog, KpiRequest item, int index, List<string> problems)
    {
        if (item.Entity is not { ValueKind: not JsonValueKind.Null } entity)
        {
            return null;
        }

        if (catalog.KpiReader(item.Name ?? "") is { } view)
        {
            if (EntityKeys.TryNormalize(view.Entity, entity, out var key, out var reason))
            {
                return key;
            }

            problems.Add($"item {index}: entity {EntityKeys.Describe(entity)} is {reason} (feature view '{view.Name}' reads KPI '{item.Name}' by entity '{view.Entity.Name}', whose keys are {view.Entity.Type ?? FeatureTypes.String})");
            return null;
        }

        switch (entity.ValueKind)
        {
            case JsonValueKind.String:
                return entity.GetString();
            case JsonValueKind.Number:
                return entity.GetRawText();
            default:
                problems.Add($"item {index}: entity {EntityKeys.Describe(entity)} is not a string or a number");
                return null;
        }
    }

    /// <summary>The fields of a single value that <paramref name="body"/> gives, in the body's words.</summary>
    private static List<string> Given(KpiRequest body)
    {
        var given = new List<string>();
        if (body.Name is not null)
        {
            given.Add("name");
        }

        if (body.Value is not null)
        {
            given.Add("value");
        }

        if (body.PredictionId is not null)
        {
            given.Add("prediction_id");
        }

        if (body.RoutingKey is not null)
        {
            given.Add("routing_key");
        }

        if (body.Entity is { ValueKind: not JsonValueKind.Null })
        {
            given.Add("entity");
        }

        return given;
    }

    private static string Actor(HttpContext context) => BallastClaims.NameOf(context.User);
}
