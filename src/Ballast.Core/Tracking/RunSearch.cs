namespace Ballast.Tracking;

/// <summary>A runs/search request: MLflow filter and order_by strings over one or more experiments.</summary>
public sealed record RunSearch(
    IReadOnlyList<string> ExperimentIds,
    string? Filter = null,
    IReadOnlyList<string>? OrderBy = null,
    int? MaxResults = null,
    string? PageToken = null,
    ViewType ViewType = ViewType.ActiveOnly);

public sealed record RunPage(IReadOnlyList<Run> Runs, string? NextPageToken);
