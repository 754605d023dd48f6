using System.Text.Json.Nodes;

namespace Ballast.Pipelines;

/// <summary>A stored pipeline: its spec and when it was created and last changed (Unix ms).</summary>
public sealed record StoredPipeline(PipelineSpec Spec, long CreatedAt, long UpdatedAt);

/// <summary>
/// One run of a pipeline: the spec as it was when the run started (so changing the pipeline never changes a run under
/// way), the resolved parameters, what triggered it, and its steps.
/// </summary>
public sealed record PipelineRun(
    string RunId,
    string Pipeline,
    string Status,
    string Trigger,
    IReadOnlyDictionary<string, JsonNode?> Parameters,
    PipelineSpec Spec,
    bool NoCache,
    long CreatedAt,
    long? StartedAt,
    long? FinishedAt,
    string? Error,
    IReadOnlyList<StepRun> Steps);

/// <summary>One step of a run: its attempts so far, when the next may start, its outputs, error, log and tracking run.</summary>
public sealed record StepRun(
    string Step,
    int Position,
    string Status,
    int Attempts,
    long NextAttemptAt,
    long? StartedAt,
    long? FinishedAt,
    string? CacheKey,
    string? CachedFrom,
    IReadOnlyDictionary<string, JsonNode?>? Outputs,
    string? Error,
    string? LogPath,
    string? TrackingRunId);

/// <summary>
/// A schedule occurrence or dataset version whose start the pipeline's <c>max_active_runs</c> refused: its dedupe key, the
/// trigger it would have run with, why it was refused and when (Unix ms).
/// </summary>
public sealed record SkippedStart(string DedupeKey, string Trigger, string Reason, long At);
