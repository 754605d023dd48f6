using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Ballast.Pipelines;

/// <summary>
/// A pipeline: typed parameters, a DAG of steps (order from the references between them plus <c>needs</c>), an optional
/// cron schedule and triggers. Fields are snake_case, as every <c>/api/v1</c> body and <c>kind: Pipeline</c> manifest.
/// <see cref="MaxParallel"/> bounds the steps of one run at once; <see cref="MaxActiveRuns"/> the runs of the pipeline
/// that may be queued, running or cancelling at once (Airflow's <c>max_active_runs</c>; absent: no limit).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PipelineSpec(
    string Name,
    IReadOnlyList<PipelineParameter>? Parameters = null,
    IReadOnlyList<PipelineStepSpec>? Steps = null,
    PipelineSchedule? Schedule = null,
    IReadOnlyList<PipelineTrigger>? Triggers = null,
    int? MaxParallel = null,
    int? MaxActiveRuns = null);

/// <summary>A parameter: <c>string</c>, <c>int</c>, <c>number</c>, <c>bool</c>, <c>dataset</c> (<c>NAME</c> or <c>NAME@VERSION</c>) or <c>model</c> (<c>models:/NAME/VERSION</c>); without a default it is required.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PipelineParameter(string Name, string? Type = null, JsonNode? Default = null);

/// <summary>
/// One step: its <see cref="Kind"/> (<c>command</c> or a built-in), its inputs (<see cref="With"/>, where strings may hold
/// <c>${{ params.NAME }}</c> and <c>${{ steps.STEP.outputs.NAME }}</c>), extra dependencies (<see cref="Needs"/>),
/// retries with exponential backoff from <see cref="RetryBackoff"/>, a per-attempt <see cref="Timeout"/> and caching.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PipelineStepSpec(
    string Name,
    string Kind,
    JsonObject? With = null,
    IReadOnlyList<string>? Needs = null,
    int? Retries = null,
    string? RetryBackoff = null,
    string? Timeout = null,
    bool? Cache = null);

/// <summary>A cron schedule (5 fields, or 6 with seconds) evaluated in <see cref="TimeZone"/> (IANA id, default UTC).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PipelineSchedule(string? Cron, string? TimeZone = null);

/// <summary>Start a run when the dataset <see cref="Dataset"/> gets a new version, passing <c>NAME@VERSION</c> to the parameter <see cref="Parameter"/> (default: the first <c>dataset</c> parameter).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PipelineTrigger(string? Dataset = null, string? Parameter = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PipelineSpec))]
[JsonSerializable(typeof(Dictionary<string, JsonNode?>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class PipelineJsonContext : JsonSerializerContext;
