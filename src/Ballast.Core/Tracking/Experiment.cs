namespace Ballast.Tracking;

/// <summary>An MLflow experiment. Times are Unix epoch milliseconds; ids are decimal strings, as MLflow's.</summary>
public sealed record Experiment(
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    string LifecycleStage,
    long CreationTime,
    long LastUpdateTime,
    IReadOnlyList<TrackingTag> Tags);

public sealed record TrackingTag(string Key, string? Value);

public static class LifecycleStages
{
    public const string Active = "active";
    public const string Deleted = "deleted";
}

/// <summary>MLflow's <c>ViewType</c>: which lifecycle stages a search returns.</summary>
public enum ViewType
{
    ActiveOnly = 1,
    DeletedOnly = 2,
    All = 3,
}

public sealed record ExperimentSearch(string? Filter = null, IReadOnlyList<string>? OrderBy = null, int? MaxResults = null, string? PageToken = null, ViewType ViewType = ViewType.ActiveOnly);

public sealed record ExperimentPage(IReadOnlyList<Experiment> Experiments, string? NextPageToken);
