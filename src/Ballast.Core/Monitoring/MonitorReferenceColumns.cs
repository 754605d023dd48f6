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
    /// <c>iris-train@3 train.csv</c>): <c>columns.include</c> columns it lacks (a window refuses them), columns the drift
    /// options name (<c>drift.methods</c>, <c>drift.thresholds</c>, <c>drift.categorical</c>) that it lacks, and for CBPE a
    /// table without the label column (<c>estimated.label</c>, default <c>label</c>): with the model's probabilities the
    /// window cannot calibrate them (NannyML's <c>CBPE.fit</c> needs <c>y_true</c>), without them the endpoint's models
    /// do not score it. A table with the label but not the probabilities is accepted when a variant of the endpoint may
    /// score it: <paramref name="scorers"/> (null: not known, accepted) lists how each would; refused when every one has a
    /// problem or reads a column the table lacks. A table that could not be profiled is left to the window.
    /// </summary>
    public static List<string> Problems(MonitorSpec spec, string reference, TableProfile? table, IReadOnlyList<Scorer>? scorers = null)
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

        // A drift option naming a column the reference lacks: that column is never compared, so every window fails.
        foreach (var (field, named) in new (string, IEnumerable<string>?)[]
        {
            ("drift.methods", spec.Drift?.Methods?.Keys), ("drift.thresholds", spec.Drift?.Thresholds?.Keys), ("drift.categorical", spec.Drift?.Categorical),
        })
        {
            if ((named ?? []).Where(column => !has.Contains(column)).ToList() is { Count: > 0 } absent)
            {
                problems.Add($"{field}: {reference} has no column {Quoted(absent)} to compare{it}");
            }
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
        else if (spec.Estimated is { ProbabilityOutput: not null } labelled && scorers is { Count: > 0 }
            && CbpeWindowEstimator.MissingProbabilities(labelled, has.Contains) is { Count: > 0 } probabilities)
        {
            // A label but no probabilities: the window scores it with the endpoint's models; refused when none of them can.
            var why = new List<string>();
            foreach (var scorer in scorers)
            {
                if (scorer.Problem is not null)
                {
                    why.Add($"variant '{scorer.Variant}' {scorer.Problem}");
                }
                else if (scorer.Columns.Where(column => !has.Contains(column.Column)).ToList() is { Count: > 0 } absent)
                {
                    why.Add($"variant '{scorer.Variant}' ({scorer.Model}) reads {Quoted(absent.Select(column => column.Column))} for its input " +
                        $"{Quoted(absent.Select(column => column.Input).Distinct(StringComparer.Ordinal))}");
                }
                else
                {
                    return problems;
                }
            }

            problems.Add($"estimated.probability_output: {reference} has no column {Quoted(probabilities)}{(labelled.Classes is { Count: > 0 } ? "" : $" (or '{WindowValues.Column(probabilities[0], 1)}')")} " +
                $"with the model's probabilities, and no model of endpoint '{spec.Endpoint}' can score it: {string.Join("; ", why)} (feature_names names an [N, k] input's columns){it}");
        }

        return problems;
    }

    /// <summary>
    /// How a variant of the monitor's endpoint would score a reference: the table <see cref="Columns"/> its model's
    /// inputs read (<see cref="ReferenceScorer.InputColumns"/>), or why it cannot score one (<see cref="Problem"/>).
    /// </summary>
    public sealed record Scorer(string Variant, string? Model, IReadOnlyList<(string Input, string Column)> Columns, string? Problem = null);

    private static string Quoted(IEnumerable<string> columns) => string.Join(", ", columns.Select(column => $"'{column}'"));
}
