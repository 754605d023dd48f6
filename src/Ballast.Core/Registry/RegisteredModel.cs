using Ballast.Tracking;

namespace Ballast.Registry;

/// <summary>An MLflow registered model. Times are Unix epoch milliseconds.</summary>
public sealed record RegisteredModel(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    IReadOnlyList<ModelVersion> LatestVersions,
    IReadOnlyList<TrackingTag> Tags,
    IReadOnlyList<ModelAlias> Aliases);

public sealed record ModelAlias(string Alias, string Version);

/// <summary>A version of a registered model: where its files are (<see cref="Source"/>), which run made it, its stage and aliases.</summary>
public sealed record ModelVersion(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    string? UserId,
    string CurrentStage,
    string Source,
    string? RunId,
    string? RunLink,
    string Status,
    string? StatusMessage,
    IReadOnlyList<TrackingTag> Tags,
    IReadOnlyList<string> Aliases)
{
    /// <summary>The MLflow 3 logged model this version was registered from, if any.</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// Where the version's files are when that is not <see cref="Source"/> itself: a logged model's artifact location for a
    /// <c>models:/&lt;model_id&gt;</c> source, the referenced version's download URI for a <c>models:/NAME/VERSION</c> (or alias) source.
    /// </summary>
    public string? StorageLocation { get; init; }

    /// <summary>Where to read the version's files (MLflow's download URI): the storage location, else the source.</summary>
    public string DownloadUri => StorageLocation ?? Source;
}

public static class ModelStages
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    public static readonly IReadOnlyList<string> All = [None, Staging, Production, Archived];

    /// <summary>MLflow accepts stages case-insensitively and stores them capitalised.</summary>
    public static string Canonical(string stage) =>
        All.FirstOrDefault(known => string.Equals(known, stage, StringComparison.OrdinalIgnoreCase))
        ?? throw TrackingException.Invalid($"Invalid Model Version stage: {stage}. Value must be one of {string.Join(", ", All)}.");
}

public sealed record RegistrySearch(string? Filter = null, IReadOnlyList<string>? OrderBy = null, int? MaxResults = null, string? PageToken = null);

public sealed record RegisteredModelPage(IReadOnlyList<RegisteredModel> Models, string? NextPageToken);

public sealed record ModelVersionPage(IReadOnlyList<ModelVersion> Versions, string? NextPageToken);
