using Ballast.Datasets;
using Ballast.Registry;
using Ballast.Storage;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>
/// A run's training data as a monitor's reference (<c>reference: {run: RUN_ID}</c>): among the dataset inputs the run
/// logged (MLflow <c>log-inputs</c>), those tagged <c>mlflow.data.context = training</c> (every input when none is
/// tagged), the first that is a Ballast dataset version (same name and digest); without one, the run's artifact named
/// <c>train.csv</c>, <c>train.tsv</c> or <c>train.parquet</c> (optionally <c>.gz</c>) anywhere in its artifacts.
/// <c>reference.file</c> picks the dataset's table, or the artifact's path within the run's artifacts.
/// </summary>
internal static class MonitorRunReference
{
    public const string ContextTag = "mlflow.data.context";
    public const string Training = "training";

    public static async Task<MonitorReferenceSource> ResolveAsync(RunStore? runs, DatasetStore datasets, IArtifactStore? artifacts, string runId, string? file,
        CancellationToken cancellationToken)
    {
        if (runs is null)
        {
            throw TrackingException.Invalid("a run reference needs the tracking store, which this process was not given");
        }

        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        var training = run.Inputs.Where(input => input.Tags.Any(tag => tag.Key == ContextTag && tag.Value == Training)).ToList();
        foreach (var input in training.Count > 0 ? training : run.Inputs)
        {
            if (await datasets.FindByDigestAsync(input.Dataset.Name, input.Dataset.Digest, cancellationToken).ConfigureAwait(false) is { } version)
            {
                var table = MonitorReferenceFile.Choose(version, file);
                return MonitorReferenceSource.OfDatasetFile(datasets, $"run {runId}: {version.Reference} {table.Path}", table, MonitorReferenceFile.ProfileOf(version, table));
            }
        }

        var found = new List<string>();
        var root = ModelRegistration.StorePathOf(run.Info.ArtifactUri);
        if (artifacts is not null && root is not null)
        {
            await foreach (var entry in artifacts.ListAsync(root, recursive: true, cancellationToken).ConfigureAwait(false))
            {
                var relative = entry.Path[(root.Length + 1)..];
                if (file is null ? IsTrainingFile(relative) : relative == file)
                {
                    found.Add(relative);
                }
            }
        }

        if (found.Count == 1)
        {
            var path = $"{root}/{found[0]}";
            return new MonitorReferenceSource($"run {runId}: artifact {found[0]}", found[0], token => artifacts!.OpenReadAsync(path, token));
        }

        var logged = run.Inputs.Count == 0 ? "none" : string.Join(", ", run.Inputs.Select(input => $"{input.Dataset.Name}@{input.Dataset.Digest}"));
        throw TrackingException.Invalid(found.Count > 1
            ? $"run '{runId}' has {found.Count} training files ({string.Join(", ", found)}); name one in reference.file"
            : $"run '{runId}' logged no {(training.Count > 0 ? "training " : "")}dataset input that is a Ballast dataset version (inputs: {logged}) " +
              $"and has no {(file is null ? "train.csv, train.tsv or train.parquet artifact" : $"artifact '{file}'")}; log one with mlflow.log_input, or use reference.dataset");
    }

    private static bool IsTrainingFile(string relative)
    {
        var name = relative[(relative.LastIndexOf('/') + 1)..];
        return name.StartsWith("train.", StringComparison.Ordinal) && DatasetProfiler.FormatOf(name) is not null;
    }
}
