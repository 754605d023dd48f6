using System.Globalization;
using Ballast.Rollouts;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Rollouts;

/// <summary>
/// A rollout's status as <c>ballast rollout status --json</c> shows it: phase, step, canary weight, message, and the
/// current analysis's measurements.
/// </summary>
public sealed record RolloutStatusResponse(string Name, string Endpoint, string Model, string Phase, int Step, int Weight, string Message, IReadOnlyList<Measurement> Analysis)
{
    public static RolloutStatusResponse From(StoredRollout rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return new RolloutStatusResponse(rollout.Spec.Name, rollout.Spec.Endpoint!, rollout.Spec.Model!, rollout.State.Phase, rollout.State.Step, rollout.State.Weight,
            rollout.State.Message, rollout.State.Analysis?.Measurements ?? []);
    }
}

public sealed record RolloutListResponse(IReadOnlyList<RolloutStatusResponse> Rollouts);

public sealed record RolloutHistoryResponse(string Name, IReadOnlyList<RolloutEvent> History);

/// <summary>An ended analysis run: its number, the step and variant it judged, its outcome and reason, its span and every measurement with each metric's result.</summary>
public sealed record RolloutAnalysisResponse(long Id, int Step, string Variant, string Outcome, string Message, long StartedAt, long EndedAt, IReadOnlyList<Measurement> Measurements)
{
    public static RolloutAnalysisResponse From(StoredAnalysis stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var run = stored.Analysis;
        return new RolloutAnalysisResponse(stored.Id, run.Step, run.Variant, run.Outcome, run.Message, run.StartedAt, run.EndedAt, run.Measurements);
    }
}

/// <summary>A page of ended analysis runs, newest first; <see cref="NextBefore"/> continues (as <c>?before=</c>) when there may be more.</summary>
public sealed record RolloutAnalysesResponse(string Name, IReadOnlyList<RolloutAnalysisResponse> Analyses, long? NextBefore);

/// <summary><c>/api/v1/rollouts</c>: start a canary rollout, follow it, and steer it (promote, pause, resume, abort).</summary>
public static class RolloutsApi
{
    public static IEndpointRouteBuilder MapRolloutsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/rollouts").WithTags("Rollouts");
        group.MapPost("/", async (RolloutSpec spec, RolloutController rollouts, Ballast.Serving.EndpointStore endpoints, Ballast.Registry.RegistryStore registry, Ballast.Serving.EndpointRouter router,
            CancellationToken cancellationToken) =>
        {
            if (await ModelProblemsAsync(spec, endpoints, registry, router, cancellationToken).ConfigureAwait(false) is { Count: > 0 } problems)
            {
                // Said with the spec's own problems, so one answer lists everything to fix.
                try
                {
                    _ = RolloutValidation.Validate(spec);
                }
                catch (Ballast.Tracking.TrackingException invalid) when (invalid.Problems.Count > 0)
                {
                    problems = [.. invalid.Problems, .. problems];
                }

                throw Ballast.Tracking.TrackingException.Invalid($"Invalid rollout '{spec.Name}'", problems);
            }

            var started = await rollouts.StartAsync(spec, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/rollouts/{started.Spec.Name}", RolloutStatusResponse.From(started));
        }).WithSummary("Starts a canary rollout (Argo-style steps: setWeight, pause, analysis).").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.For<RolloutSpec>((spec, _) => RolloutValidation.Validate(spec)));
        group.MapGet("/", async (RolloutController rollouts, CancellationToken cancellationToken) =>
            TypedResults.Ok(new RolloutListResponse((await rollouts.ListAsync(cancellationToken).ConfigureAwait(false)).Select(RolloutStatusResponse.From).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, RolloutController rollouts, CancellationToken cancellationToken) =>
            TypedResults.Ok(RolloutStatusResponse.From(await rollouts.GetAsync(name, cancellationToken).ConfigureAwait(false))))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}/history", async (string name, RolloutController rollouts, CancellationToken cancellationToken) =>
        {
            var rollout = await rollouts.GetAsync(name, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new RolloutHistoryResponse(name, rollout.State.History));
        }).WithSummary("Every transition with its time, reason and the values that caused it.").RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}/analyses", async (string name, int? limit, long? before, RolloutController rollouts, CancellationToken cancellationToken) =>
        {
            var size = limit ?? 50;
            var analyses = await rollouts.AnalysesAsync(name, size, before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new RolloutAnalysesResponse(name, analyses.Select(RolloutAnalysisResponse.From).ToList(), analyses.Count == size ? analyses[^1].Id : null));
        }).WithSummary("Every ended analysis run, newest first, with each measurement per metric (limit, default 50, at most 500; before: a run id to page on).")
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapPost("/{name}/{command}", async (string name, string command, RolloutController rollouts, CancellationToken cancellationToken) =>
        {
            var rollout = command switch
            {
                "promote" => await rollouts.PromoteAsync(name, cancellationToken).ConfigureAwait(false),
                "pause" => await rollouts.PauseAsync(name, cancellationToken).ConfigureAwait(false),
                "resume" => await rollouts.ResumeAsync(name, cancellationToken).ConfigureAwait(false),
                "abort" => await rollouts.AbortAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false),
                _ => throw Ballast.Tracking.TrackingException.NotFound($"'{command}' is not a rollout command; use promote, pause, resume or abort."),
            };
            return TypedResults.Ok(RolloutStatusResponse.From(rollout));
        }).WithSummary("promote (skip the current pause or inconclusive analysis), pause, resume, abort (all traffic back to stable).")
            .RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }

    /// <summary>
    /// Why a rollout's model cannot be rolled out (refused, 400): it does not resolve in the registry, its version was
    /// trained on another feature service than its endpoint's, or it cannot score the endpoint's requests (other inputs
    /// than its stable variant's: <see cref="Ballast.Serving.EndpointSignatureCheck"/>). The router would never route to
    /// any of them, so the canary would wait for traffic that cannot come.
    /// </summary>
    private static async Task<List<string>> ModelProblemsAsync(RolloutSpec spec, Ballast.Serving.EndpointStore endpoints, Ballast.Registry.RegistryStore registry,
        Ballast.Serving.EndpointRouter router, CancellationToken cancellationToken)
    {
        if (spec.Endpoint is not { Length: > 0 } name || spec.Model is null)
        {
            return []; // the controller's validation says what is missing
        }

        // The model must resolve now: a rollout to a version that does not exist once "succeeded" with a canary that
        // never answered, and left the endpoint on a model it cannot load.
        Ballast.Serving.ModelReference reference;
        try
        {
            reference = Ballast.Serving.ModelReference.Parse(spec.Model, "model");
        }
        catch (Ballast.Tracking.TrackingException)
        {
            return []; // not a model reference: the controller's validation says so, with the rest
        }

        try
        {
            await reference.ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
        }
        catch (Ballast.Tracking.TrackingException missing) when (missing.Code == Ballast.Tracking.TrackingException.ResourceDoesNotExist)
        {
            return [$"model '{spec.Model}' does not resolve: {missing.Message.TrimEnd('.')}"];
        }

        var endpoint = (await endpoints.GetAsync(name, cancellationToken).ConfigureAwait(false)).Spec;
        var canary = endpoint with { Variants = [new Ballast.Serving.VariantSpec(RolloutController.CanaryVariant, spec.Model)], Shadows = [] };
        if (await Ballast.Serving.FeatureServiceCheck.MismatchesAsync(canary, registry, cancellationToken).ConfigureAwait(false) is { Count: > 0 } mismatches)
        {
            return [$"{mismatches[0].Message}; a rollout's model must be trained on the endpoint's feature service (or record none)"];
        }

        // The endpoint as the rollout's first step would lay it out, checked as the router would check it; refused only
        // for what the new model brings (an endpoint already not served says so in its own status).
        if (endpoint.Variants is not [{ Model: not null } stable])
        {
            return []; // the controller says what a rollout needs
        }

        // The stable variant's model is resolved once, and both layouts are checked with that version: the split's
        // problem is blamed on the new model only when the endpoint serves without it, so both checks must judge the same
        // stable model (an alias moved between them would have them judge two).
        string pinned;
        try
        {
            var current = await Ballast.Serving.ModelReference.Parse(stable.Model, "model").ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
            pinned = new Ballast.Serving.ModelReference(current.Name, long.Parse(current.Version, CultureInfo.InvariantCulture), null).ToString();
        }
        catch (Ballast.Tracking.TrackingException)
        {
            return []; // the stable variant does not resolve: the endpoint's own status says so
        }

        var served = endpoint with { Variants = [stable with { Model = pinned }] };
        var split = endpoint with { Variants = [stable with { Model = pinned, Weight = 50 }, new Ballast.Serving.VariantSpec(RolloutController.CanaryVariant, spec.Model, 50)] };
        return await router.CheckAsync(split, [], cancellationToken).ConfigureAwait(false) is { } problem
            && await router.CheckAsync(served, [], cancellationToken).ConfigureAwait(false) is null
            ? [$"endpoint '{name}' could not serve '{spec.Model}' beside its stable variant: {problem.TrimEnd('.')}"]
            : [];
    }
}
