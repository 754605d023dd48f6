using Ballast.Datasets;

namespace Ballast.Monitoring;

/// <summary>
/// What a monitor needs of a dataset reference's columns that the table's stored profile (<see cref="DatasetProfiler"/>)
/// shows missing, checked when the monitor is stored: only what every window would refuse. A window checks again (a bare
/// dataset name resolves to the latest version at each window, and versions change).
/// </summary>
internal static class MonitorReferenceColumns
{
    /// <summary>
    /// The problems of <paramref name="spec"/> against <paramref name="table"/> (named <paramref name="reference"/>, as
    /// <c>iris-train@3 train.csv</c>): <c>columns.include</c> columns it lacks (a window refuses them), and for CBPE a
    /// table without the label column (<c>estimated.label</c>, default <c>label</c>): with the model's probabilities the
    /// window cannot calibrate them (NannyML's <c>CBPE.fit</c> needs <c>y_true</c>), without them the endpoint's models
    /// do not score it. A table with the label but not the probabilities is accepted: the endpoint's models may score it.
    /// A table that could not be profiled is left to the window.
    /// </summary>
    public static List<string> Problems(MonitorSpec spec, string reference, TableProfile? table)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (table is null || table.Error is not null)
        {
            return [];
        }

        var columns = table.Columns.Select(column => column.Name).ToList();
        var has = columns.ToHashSet(StringComparer.Ordinal);
        var it = $"; it has {string.Join(", ", columns)}";
        var problems = new List<string>();
        if ((spec.Columns?.Include ?? []).Where(column => !has.Contains(column)).ToList() is { Count: > 0 } missing)
        {
            problems.Add($"columns.include: {reference} has no column {Quoted(missing)} to compare with{it}");
        }

        if (spec.Estimated is { ProbabilityOutput: not null } estimated && (estimated.Label ?? CbpeWindowEstimator.DefaultLabel) is var label && !has.Contains(label))
        {
            var probabilities = CbpeWindowEstimator.MissingProbabilities(estimated, has.Contains);
            problems.Add(probabilities.Count == 0
                ? $"estimated.label: {reference} has the model's probabilities but no column '{label}' with the true label, and CBPE (as NannyML's, which refuses " +
                  $"a reference without its y_true column) calibrates on the reference's probabilities and labels{it}"
                : $"estimated.label: {reference} has no column {Quoted(probabilities)}{(estimated.Classes is { Count: > 0 } ? "" : $" (or '{WindowValues.Column(probabilities[0], 1)}')")} " +
                  $"with the model's probabilities nor a column '{label}' with the true label, so the endpoint's models do not score it and CBPE has nothing to calibrate with{it}");
        }

        return problems;
    }

    private static string Quoted(IEnumerable<string> columns) => string.Join(", ", columns.Select(column => $"'{column}'"));
}
