namespace Ballast.Tracking;

/// <summary>
/// An MLflow run: its info, its data (latest metrics, params, tags), its inputs (datasets, and the logged models it
/// used) and its outputs (the logged models it produced, MLflow 3's <c>log_model()</c>).
/// </summary>
public sealed record Run(RunInfo Info, RunData Data, IReadOnlyList<DatasetInput> Inputs)
{
    /// <summary>The logged models the run used (<c>runs/log-inputs</c> with <c>models</c>).</summary>
    public IReadOnlyList<string> ModelInputs { get; init; } = [];

    /// <summary>The logged models the run produced (<c>runs/outputs</c>).</summary>
    public IReadOnlyList<ModelOutput> ModelOutputs { get; init; } = [];
}

public sealed record RunInfo(
    string RunId,
    string ExperimentId,
    string? RunName,
    string? UserId,
    string Status,
    long StartTime,
    long? EndTime,
    string ArtifactUri,
    string LifecycleStage);

public sealed record RunData(IReadOnlyList<Metric> Metrics, IReadOnlyList<Param> Params, IReadOnlyList<TrackingTag> Tags);

/// <summary>
/// One logged value of a metric. NaN and ±infinity are kept as such. MLflow 3 links a value to the logged model it
/// measures (<see cref="ModelId"/>), optionally on a dataset; such a value is also kept on that model.
/// </summary>
public sealed record Metric(string Key, double Value, long Timestamp, long Step)
{
    public string? ModelId { get; init; }

    public string? DatasetName { get; init; }

    public string? DatasetDigest { get; init; }

    /// <summary>The run that logged it, when read from a logged model.</summary>
    public string? RunId { get; init; }
}

public sealed record Param(string Key, string Value);

public static class RunStatuses
{
    public const string Running = "RUNNING";
    public const string Scheduled = "SCHEDULED";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Killed = "KILLED";

    public static readonly IReadOnlyList<string> All = [Running, Scheduled, Finished, Failed, Killed];
}

public sealed record MetricHistoryPage(IReadOnlyList<Metric> Metrics, string? NextPageToken);
