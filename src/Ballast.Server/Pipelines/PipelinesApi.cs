using System.Text;
using System.Text.Json.Nodes;
using Ballast.Pipelines;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Storage;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Server.Pipelines;

/// <summary>A stored pipeline: its spec, when it was stored, and when its schedule fires next (UTC, Unix ms).</summary>
public sealed record PipelineResponse(PipelineSpec Pipeline, long CreatedAt, long UpdatedAt, long? NextScheduledAt);

public sealed record PipelineListResponse(IReadOnlyList<PipelineResponse> Pipelines);

/// <summary>The body of <c>POST /api/v1/pipelines/{name}/runs</c>: parameter values (text, numbers or booleans) and whether to ignore the cache.</summary>
public sealed record StartPipelineRunRequest(Dictionary<string, JsonNode?>? Parameters = null, bool? NoCache = null);

public sealed record StepRunResponse(string Step, string Kind, string Status, int Attempts, long? StartedAt, long? FinishedAt, long? NextAttemptAt,
    IReadOnlyDictionary<string, JsonNode?>? Outputs, string? Error, string? CachedFrom, string? TrackingRunId, string? LogPath);

public sealed record PipelineRunResponse(string RunId, string Pipeline, string Status, string Trigger, IReadOnlyDictionary<string, JsonNode?> Parameters, bool NoCache,
    long CreatedAt, long? StartedAt, long? FinishedAt, string? Error, IReadOnlyList<StepRunResponse> Steps)
{
    public static PipelineRunResponse From(PipelineRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var kinds = (run.Spec.Steps ?? []).ToDictionary(step => step.Name, step => step.Kind, StringComparer.Ordinal);
        return new PipelineRunResponse(run.RunId, run.Pipeline, run.Status, run.Trigger, run.Parameters, run.NoCache, run.CreatedAt, run.StartedAt, run.FinishedAt, run.Error,
            run.Steps.Select(step => new StepRunResponse(step.Step, kinds.GetValueOrDefault(step.Step, ""), step.Status, step.Attempts, step.StartedAt, step.FinishedAt,
                step.Status == StepRunStatuses.Queued && step.NextAttemptAt > 0 ? step.NextAttemptAt : null, step.Outputs, step.Error, step.CachedFrom, step.TrackingRunId, step.LogPath)).ToList());
    }
}

public sealed record PipelineRunListResponse(IReadOnlyList<PipelineRunResponse> Runs, string? NextBefore = null);

/// <summary>A start that <c>max_active_runs</c> refused: the occurrence or version's dedupe key, its trigger, why, and when (Unix ms).</summary>
public sealed record SkippedStartResponse(string DedupeKey, string Trigger, string Reason, long At);

public sealed record SkippedStartListResponse(IReadOnlyList<SkippedStartResponse> SkippedStarts, string? NextBefore = null);

/// <summary>
/// <c>/api/v1/pipelines</c> (store pipelines, start and list runs) and <c>/api/v1/pipeline-runs</c> (a run's steps, logs,
/// cancel, resume). Runs are queued here and moved by the runner of the replica holding the <c>pipelines</c> lease.
/// </summary>
public static class PipelinesApi
{
    public const int MaxListedRuns = 200;
    private const string CommandKind = "command";

    public static IEndpointRouteBuilder MapPipelinesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/pipelines").WithTags("Pipelines");
        group.MapPut("/{name}", async (string name, PipelineSpec spec, PipelineStore store, PipelineRunner runner, TimeProvider time, HttpContext http, CancellationToken cancellationToken) =>
        {
            BodyValidation.CheckNamedByPath("pipeline", spec.Name, name);

            // A command runs any executable as the server's user: only admins may store one.
            if ((spec.Steps ?? []).Any(step => step.Kind == CommandKind) && BallastClaims.RoleOf(http.User) is not Ballast.Security.ApiKeyRole.Admin)
            {
                throw new ForbiddenException($"Pipeline '{name}' has command steps, which run any executable on the server: storing it needs the admin role.");
            }

            // An ingest path or entities file (unless it is another step's file output or a dataset) reads any file the server's user can read.
            if ((spec.Steps ?? []).Any(step => step.Kind == "ingest" && Ballast.Pipelines.Steps.IngestStep.ReadsServerFiles(step.With))
                && BallastClaims.RoleOf(http.User) is not Ballast.Security.ApiKeyRole.Admin)
            {
                throw new ForbiddenException($"Pipeline '{name}' has ingest steps with a local path, which read files on the server: storing it needs the admin role.");
            }

            var stored = await store.PutAsync(PipelineValidation.Validate(spec with { Name = name }, runner.Steps), cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(Response(stored, time));
        }).WithSummary("Creates or replaces a pipeline (runs under way keep the spec they started with); command steps and ingest steps with a local path need the admin role.").RequireAuthorization(BallastPolicies.Writer)
            .WithMetadata(BodyValidation.NamedByPath<PipelineSpec>("pipeline", spec => spec.Name, (spec, name) => spec with { Name = name },
                (spec, services) => PipelineValidation.Validate(spec, services.GetRequiredService<PipelineRunner>().Steps)));
        group.MapGet("/", async (PipelineStore store, TimeProvider time, CancellationToken cancellationToken) =>
            TypedResults.Ok(new PipelineListResponse((await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(pipeline => Response(pipeline, time)).ToList())))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{name}", async (string name, PipelineStore store, TimeProvider time, CancellationToken cancellationToken) =>
            TypedResults.Ok(Response(await store.GetAsync(name, cancellationToken).ConfigureAwait(false), time)))
            .RequireAuthorization(BallastPolicies.Reader);
        group.MapDelete("/{name}", async (string name, PipelineStore store, CancellationToken cancellationToken) =>
        {
            await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithSummary("Deletes a pipeline and its runs (refused while a run is under way).").RequireAuthorization(BallastPolicies.Writer);
        group.MapPost("/{name}/runs", async (string name, StartPipelineRunRequest? body, PipelineLauncher launcher, CancellationToken cancellationToken) =>
        {
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in body?.Parameters ?? [])
            {
                parameters[key] = value switch
                {
                    JsonValue scalar when scalar.TryGetValue<string>(out var text) => text,
                    JsonValue scalar => scalar.ToJsonString(),
                    _ => throw TrackingException.Invalid($"parameters.{key}: a parameter value is text, a number or a boolean, not {value?.ToJsonString() ?? "null"}."),
                };
            }

            var run = await launcher.LaunchAsync(name, parameters, "manual", body?.NoCache ?? false, null, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/api/v1/pipeline-runs/{run!.RunId}", PipelineRunResponse.From(run));
        }).WithSummary("Starts a run (queued; the runner picks it up within a second).").RequireAuthorization(BallastPolicies.Writer);
        group.MapGet("/{name}/runs", async (string name, int? limit, string? before, PipelineStore store, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > MaxListedRuns)
            {
                throw TrackingException.Invalid($"limit {limit} must be between 1 and {MaxListedRuns}.");
            }

            var size = limit ?? 50;
            var runs = await store.ListRunsAsync(name, size, string.IsNullOrEmpty(before) ? null : before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new PipelineRunListResponse(runs.Select(PipelineRunResponse.From).ToList(), runs.Count == size ? runs[^1].RunId : null));
        }).WithSummary("The pipeline's runs, newest first (?limit=, default 50, at most 200; ?before=: a run id to page on, given as next_before).").RequireAuthorization(BallastPolicies.Reader);

        group.MapGet("/{name}/skipped-starts", async (string name, int? limit, string? before, PipelineStore store, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > MaxListedRuns)
            {
                throw TrackingException.Invalid($"limit {limit} must be between 1 and {MaxListedRuns}.");
            }

            var size = limit ?? 50;
            var skipped = await store.ListSkippedStartsAsync(name, size, string.IsNullOrEmpty(before) ? null : before, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new SkippedStartListResponse(skipped.Select(start => new SkippedStartResponse(start.DedupeKey, start.Trigger, start.Reason, start.At)).ToList(),
                skipped.Count == size ? skipped[^1].DedupeKey : null));
        }).WithSummary("Schedule occurrences and dataset versions that max_active_runs skipped, newest first (?limit=, default 50, at most 200; ?before=: a dedupe key to page on, given as next_before).").RequireAuthorization(BallastPolicies.Reader);

        var runs = routes.MapGroup("/api/v1/pipeline-runs").WithTags("Pipelines");
        runs.MapGet("/{id}", async (string id, PipelineStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(PipelineRunResponse.From(await store.GetRunAsync(id, cancellationToken).ConfigureAwait(false))))
            .WithSummary("A run and its steps: status, attempts, outputs, errors, tracking runs.").RequireAuthorization(BallastPolicies.Reader);
        runs.MapGet("/{id}/logs", async (string id, string? step, PipelineStore store, IArtifactStore artifacts, CancellationToken cancellationToken) =>
        {
            var run = await store.GetRunAsync(id, cancellationToken).ConfigureAwait(false);
            if (step is not null && run.Steps.All(s => s.Step != step))
            {
                throw TrackingException.NotFound($"Pipeline run '{id}' has no step '{step}'; its steps: {string.Join(", ", run.Steps.Select(s => s.Step))}.");
            }

            var text = new StringBuilder();
            foreach (var stepRun in run.Steps.Where(s => step is null || s.Step == step))
            {
                if (step is null)
                {
                    text.Append("==> ").Append(stepRun.Step).Append(" (").Append(stepRun.Status).AppendLine(") <==");
                }

                if (stepRun.LogPath is null)
                {
                    text.AppendLine(stepRun.Status == StepRunStatuses.Running ? "(running; the log is stored when the attempt ends)" : "(no log)");
                    continue;
                }

                using var reader = new StreamReader(await artifacts.OpenReadAsync(stepRun.LogPath, cancellationToken).ConfigureAwait(false));
                text.Append(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
            }

            return TypedResults.Text(text.ToString(), "text/plain; charset=utf-8");
        }).WithSummary("The steps' logs (stdout and stderr of commands) as text; ?step= for one step.").RequireAuthorization(BallastPolicies.Reader);
        runs.MapPost("/{id}/cancel", async (string id, PipelineRunner runner, CancellationToken cancellationToken) =>
            TypedResults.Ok(PipelineRunResponse.From(await runner.CancelAsync(id, cancellationToken).ConfigureAwait(false))))
            .WithSummary("Cancels a run: queued steps at once, running ones within a second.").RequireAuthorization(BallastPolicies.Writer);
        runs.MapPost("/{id}/resume", async (string id, PipelineRunner runner, CancellationToken cancellationToken) =>
            TypedResults.Ok(PipelineRunResponse.From(await runner.ResumeAsync(id, cancellationToken).ConfigureAwait(false))))
            .WithSummary("Resumes a failed or cancelled run from its failed steps; finished steps keep their outputs.").RequireAuthorization(BallastPolicies.Writer);
        return routes;
    }

    private static PipelineResponse Response(StoredPipeline pipeline, TimeProvider time)
    {
        long? next = null;
        if (pipeline.Spec.Schedule is { } schedule)
        {
            var (cron, zone) = PipelineValidation.Cron(schedule);
            next = cron.GetNextOccurrence(time.GetUtcNow().UtcDateTime, zone) is { } at ? new DateTimeOffset(at).ToUnixTimeMilliseconds() : null;
        }

        return new PipelineResponse(pipeline.Spec, pipeline.CreatedAt, pipeline.UpdatedAt, next);
    }
}
