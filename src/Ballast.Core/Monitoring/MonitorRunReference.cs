using Ballast.Datasets;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>
/// A run's training data as a monitor's reference (<c>reference: {run: RUN_ID}</c>): among the dataset inputs the run
/// logged (MLflow <c>log-inputs</c>), those tagged <c>mlflow.data.context = training</c> (every input when none is
/// tagged), the first that is a Ballast dataset version (same name and digest).
/// </summary>
internal static class MonitorRunReference
{
    public const string ContextTag = "mlflow.data.context";
    public const string Training = "training";

    public static async Task<DatasetVersion> ResolveAsync(RunStore? runs, DatasetStore datasets, string runId, CancellationToken cancellationToken)
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
                return version;
            }
        }

        var logged = run.Inputs.Count == 0 ? "none" : string.Join(", ", run.Inputs.Select(input => $"{input.Dataset.Name}@{input.Dataset.Digest}"));
        throw TrackingException.Invalid($"run '{runId}' logged no {(training.Count > 0 ? "training " : "")}dataset input that is a Ballast dataset version " +
            $"(inputs: {logged}); log one with mlflow.log_input, or use reference.dataset");
    }
}
