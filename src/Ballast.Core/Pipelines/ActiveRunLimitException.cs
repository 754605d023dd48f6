namespace Ballast.Pipelines;

/// <summary>
/// A run was not started because the pipeline already has <see cref="Limit"/> runs under way (its
/// <c>max_active_runs</c>); <see cref="ActiveRuns"/> are their ids, oldest first. A manual start answers 409; a
/// schedule, a dataset trigger or an alert skips the start and records why.
/// </summary>
public sealed class ActiveRunLimitException(string pipeline, int limit, IReadOnlyList<(string RunId, string Status)> activeRuns)
    : Exception($"Pipeline '{pipeline}' has {activeRuns.Count} run(s) under way, its max_active_runs is {limit}: " +
        $"{string.Join(", ", activeRuns.Select(run => $"{run.RunId} ({run.Status})"))}.")
{
    public string Pipeline { get; } = pipeline;

    public int Limit { get; } = limit;

    public IReadOnlyList<string> ActiveRuns { get; } = [.. activeRuns.Select(run => run.RunId)];
}
