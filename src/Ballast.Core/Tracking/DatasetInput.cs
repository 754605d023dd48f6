namespace Ballast.Tracking;

/// <summary>An MLflow dataset as logged with a run: identified within its experiment by name and digest.</summary>
public sealed record DatasetDescription(string Name, string Digest, string SourceType, string Source, string? Schema = null, string? Profile = null);

/// <summary>A dataset a run used, with the input's tags (MLflow's <c>mlflow.data.context</c>: training, validation, …).</summary>
public sealed record DatasetInput(DatasetDescription Dataset, IReadOnlyList<TrackingTag> Tags);
