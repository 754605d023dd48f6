using Ballast.Alerts;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Alerts;

/// <summary>A rule as the API shows it (secrets as <c>***</c>), with when it was created and last changed (Unix ms).</summary>
public sealed record AlertRuleResponse(AlertRuleSpec Rule, long CreatedAt, long UpdatedAt)
{
    public static AlertRuleResponse From(StoredAlertRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new AlertRuleResponse(rule.Redacted, rule.CreatedAt, rule.UpdatedAt);
    }
}

public sealed record AlertRuleListResponse(IReadOnlyList<AlertRuleResponse> Rules);

/// <summary>
/// A rule's alert now; <see cref="Windows"/> is how many windows in a row its condition has held; <see cref="Silenced"/>
/// whether a silence covers it now. <see cref="Health"/> is <c>ok</c>, or <c>error</c> when the rule cannot be evaluated
/// (its monitor was deleted, or no longer reports its metric), with <see cref="Error"/> saying why (Grafana's rule health).
/// </summary>
public sealed record AlertResponse(
    string Rule, string Source, string Severity, string State, double? Value, string? Window, int Windows,
    DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, DateTimeOffset UpdatedAt, bool Silenced, string Health, string? Error)
{
    public const string Ok = "ok";
    public const string Failing = "error";
}

public sealed record AlertListResponse(IReadOnlyList<AlertResponse> Alerts);

public sealed record AlertHistoryResponse(string Rule, IReadOnlyList<AlertEvent> History, long? NextBefore = null);

public sealed record SilenceListResponse(IReadOnlyList<Silence> Silences);

public sealed record AlertDeliveryListResponse(IReadOnlyList<AlertDelivery> Deliveries, long? NextBefore = null);

/// <summary>
/// <c>/api/v1/alert-rules</c> (create, replace, read, delete rules) and <c>/api/v1/alerts</c> (current alerts, a rule's
/// history, silences, the delivery log).
/// </summary>
public static class AlertsApi
{
    private const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder routes)
    {
        var rules = routes.MapGroup("/api/v1/alert-rules").WithTags("Alerts");
        rules.MapPost("/", async (AlertRuleSpec spec, AlertStore store, CancellationToken cancellationToken) =>
        {
            var created = await store.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/alert-rules/{created.Spec.Name}", AlertRuleResponse.From(created));
        }).WithSummary("Creates an alert rule (a threshold on one metric of a monitor over N consecutive windows, with webhook and pipeline actions).")
            .RequireAuthorization(BallastPolicies.Writer).WithMetadata(BodyValidation.For<AlertRuleSpec>((spec, _) => AlertRuleValidation.Validate(spec)));
        rules.MapPut("/{name}", async Task<Results<Created<AlertRuleResponse>, Ok<AlertRuleResponse>>> (string name, AlertRuleSpec spec, AlertStore store, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("alert rule", spec.Name, name);

            var (rule, created, _) = await store.PutAsync(spec with { Name = name }, cancellationToken).ConfigureAwait(false);
            return created ? TypedResults.Created($"/api/v1/alert-rules/{name}", AlertRuleResponse.From(rule)) : TypedResults.Ok(AlertRuleResponse.From(rule));
        }).WithSummary("Creates or replaces a rule (what `ballast apply` does); a secret sent back as *** keeps the stored one.")
            .RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.NamedByPath<AlertRuleSpec>("alert rule", spec => spec.Name, (spec, name) => spec with { Name = name }, (spec, _) => AlertRuleValidation.Validate(spec)));
        rules.MapGet("/", async (AlertStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new AlertRuleListResponse((await store.ListRulesAsync(cancellationToken).ConfigureAwait(false)).Select(AlertRuleResponse.From).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        rules.MapGet("/{name}", async (string name, AlertStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(AlertRuleResponse.From(await store.GetRuleAsync(name, cancellationToken).ConfigureAwait(false))))
            .RequireAuthorization(BallastPolicies.Reader);
        rules.MapDelete("/{name}", async (string name, AlertStore store, CancellationToken cancellationToken) =>
        {
            await store.DeleteRuleAsync(name, cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithSummary("Deletes a rule with its state and history; notifications already queued are still delivered.").RequireAuthorization(BallastPolicies.Writer);

        var alerts = routes.MapGroup("/api/v1/alerts").WithTags("Alerts");
        alerts.MapGet("/", async (string? state, string? source, AlertStore store, AlertSourceChecks sources, CancellationToken cancellationToken) =>
        {
            if (state is not null && !AlertStates.All.Contains(state))
            {
                throw TrackingException.Invalid($"state '{state}' is not one of {string.Join(", ", AlertStates.All)}.");
            }

            var now = store.Now;
            var silences = (await store.ListSilencesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Where(silence => silence.IsActive(now)).ToList();
            var specs = (await store.ListRulesAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(rule => rule.Spec.Name, rule => rule.Spec, StringComparer.Ordinal);
            var problems = await sources.ProblemsAsync(specs.Values, cancellationToken).ConfigureAwait(false);
            var list = await store.ListStatesAsync(state, source, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new AlertListResponse(list.Select(alert => new AlertResponse(alert.Rule, alert.Source, alert.Severity, alert.State, alert.Value, alert.Window,
                alert.Consecutive, alert.StartsAt, alert.EndsAt, alert.UpdatedAt,
                specs.TryGetValue(alert.Rule, out var spec) && silences.Any(silence => silence.Covers(spec)),
                problems.ContainsKey(alert.Rule) ? AlertResponse.Failing : AlertResponse.Ok,
                problems.TryGetValue(alert.Rule, out var problem) ? $"{problem}: the rule is not evaluated" : null)).ToList()));
        }).WithSummary("Every rule's alert now (inactive, pending, firing, resolved), with its health (error when its monitor was deleted or no longer reports its metric); filter with ?state= and ?source=.")
            .RequireAuthorization(BallastPolicies.Reader);
        alerts.MapGet("/{rule}/history", async (string rule, int? limit, long? before, AlertStore store, CancellationToken cancellationToken) =>
        {
            await store.GetRuleAsync(rule, cancellationToken).ConfigureAwait(false);
            var size = Limit(limit);
            var history = await store.HistoryAsync(rule, size, before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new AlertHistoryResponse(rule, history, history.Count == size ? history[^1].Id : null));
        }).WithSummary("A rule's transitions, newest first (?limit=, default 100; ?before=: an id to page on, given as next_before).").RequireAuthorization(BallastPolicies.Reader);
        alerts.MapPost("/silences", async (SilenceRequest request, AlertEvaluator evaluator, HttpContext context, CancellationToken cancellationToken) =>
        {
            var silence = await evaluator.SilenceAsync(request, BallastClaims.NameOf(context.User), cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/alerts/silences/{silence.Id}", silence);
        }).WithSummary("Silences a rule's alerts, or those whose labels match, until ends_at or for a duration: they change state but notify nobody.")
            .RequireAuthorization(BallastPolicies.Writer);
        alerts.MapGet("/silences", async (bool? expired, AlertStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new SilenceListResponse(await store.ListSilencesAsync(expired ?? false, cancellationToken).ConfigureAwait(false))))
            .WithSummary("Silences not yet ended (?expired=true: all).").RequireAuthorization(BallastPolicies.Reader);
        alerts.MapDelete("/silences/{id}", async (string id, AlertStore store, CancellationToken cancellationToken) =>
        {
            await store.ExpireSilenceAsync(id, cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithSummary("Expires a silence now.").RequireAuthorization(BallastPolicies.Writer);
        alerts.MapGet("/deliveries", async (string? rule, int? limit, long? before, AlertStore store, CancellationToken cancellationToken) =>
        {
            var size = Limit(limit);
            var deliveries = await store.DeliveriesAsync(rule, size, before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new AlertDeliveryListResponse(deliveries, deliveries.Count == size ? deliveries[^1].Id : null));
        }).WithSummary("Delivery attempts, newest first: outcome (delivered, retry, failed, skipped), status code, error (?rule=, ?limit=, ?before=: an id to page on, given as next_before).")
            .RequireAuthorization(BallastPolicies.Reader);
        return routes;
    }

    private static int Limit(int? limit) => limit switch
    {
        null => 100,
        >= 1 and <= MaxLimit => limit.Value,
        _ => throw TrackingException.Invalid($"limit {limit} must be between 1 and {MaxLimit}."),
    };
}
