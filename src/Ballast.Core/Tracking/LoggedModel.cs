namespace Ballast.Tracking;

/// <summary>
/// An MLflow 3 logged model: what <c>mlflow.&lt;flavor&gt;.log_model()</c> creates in an experiment before it uploads the
/// model's files to <see cref="ArtifactLocation"/> (<c>&lt;experiment artifact root&gt;/models/&lt;model_id&gt;/artifacts</c>)
/// and finalizes it. Times are Unix epoch milliseconds.
/// </summary>
public sealed record LoggedModel(
    string ModelId,
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string Status,
    string? StatusMessage,
    string? ModelType,
    string? SourceRunId,
    string LifecycleStage,
    IReadOnlyList<TrackingTag> Tags,
    IReadOnlyList<Param> Params)
{
    /// <summary>The metric values runs linked to the model, each with its run and dataset (MLflow's <c>data.metrics</c>).</summary>
    public IReadOnlyList<Metric> Metrics { get; init; } = [];

    /// <summary>The registered model versions created from this model (MLflow's <c>registrations</c>), by name then version.</summary>
    public IReadOnlyList<LoggedModelRegistration> Registrations { get; init; } = [];
}

/// <summary>A registered model version whose <c>model_id</c> is a logged model's (MLflow's <c>LoggedModelRegistrationInfo</c>).</summary>
public sealed record LoggedModelRegistration(string Name, string Version);

/// <summary>MLflow's <c>LoggedModelStatus</c> names (mlflow/protos/service.proto), with their protobuf numbers.</summary>
public static class LoggedModelStatuses
{
    public const string Pending = "LOGGED_MODEL_PENDING";
    public const string Ready = "LOGGED_MODEL_READY";
    public const string UploadFailed = "LOGGED_MODEL_UPLOAD_FAILED";

    /// <summary>What a finalize may set: the upload succeeded, or it failed (the proto's "valid values in this message").</summary>
    public static readonly IReadOnlyList<string> Final = [Ready, UploadFailed];

    /// <summary>A status by name or by its protobuf number (1 pending, 2 ready, 3 upload failed); null when it is neither.</summary>
    public static string? Parse(string value) => value.ToUpperInvariant() switch
    {
        Pending or "1" => Pending,
        Ready or "2" => Ready,
        UploadFailed or "3" => UploadFailed,
        _ => null,
    };
}

/// <summary>A run's logged-model output (<c>runs/outputs</c>): the model it produced, at which step.</summary>
public sealed record ModelOutput(string ModelId, long Step);

/// <summary>
/// One <c>order_by</c> entry of a logged-model search: an attribute or <c>metrics.&lt;key&gt;</c> (the model's latest
/// value, optionally on one dataset), ascending unless said otherwise.
/// </summary>
public sealed record LoggedModelOrder(string FieldName, bool Ascending = true, string? DatasetName = null, string? DatasetDigest = null);

/// <summary>A dataset that metric clauses of a logged-model search consider (all of a name's digests when none is given).</summary>
public sealed record LoggedModelDataset(string DatasetName, string? DatasetDigest = null);

public sealed record LoggedModelSearch(
    IReadOnlyList<string> ExperimentIds,
    string? Filter = null,
    IReadOnlyList<LoggedModelOrder>? OrderBy = null,
    int? MaxResults = null,
    string? PageToken = null,
    IReadOnlyList<LoggedModelDataset>? Datasets = null);

public sealed record LoggedModelPage(IReadOnlyList<LoggedModel> Models, string? NextPageToken);
