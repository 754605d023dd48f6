using Ballast.Statistics.Performance;

namespace Ballast.Monitoring;

/// <summary>
/// Fairness per window across the groups of <c>fairness.sensitive</c>, or the combinations of <c>fairness.sensitive_features</c>
/// (<see cref="Fairness"/>, fairlearn's definitions): from the predictions alone <c>fairness.group.&lt;value&gt;.selection_rate</c> and the demographic parity
/// difference and ratio; from the rows with feedback (at least min_rows) the equal opportunity and equalized odds differences.
/// </summary>
public sealed class FairnessWindowEstimator : IWindowEstimator
{
    public string Name => "fairness";

    public Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(context.Spec.Fairness is { } fairness ? Assess(context, fairness) : WindowHookResult.None);
    }

    private static WindowHookResult Assess(MonitorWindowContext context, MonitorFairness fairness)
    {
        var window = context.Window;
        var columns = fairness.Columns();
        var sensitive = new List<List<object?>>();
        foreach (var column in columns)
        {
            if (!window.Inputs.TryGetValue(column, out var values))
            {
                return WindowHookResult.Note($"no fairness: the sensitive column '{column}' is not among the window's inputs ({string.Join(", ", window.Inputs.Keys)})");
            }

            sensitive.Add(values);
        }

        var output = fairness.Output ?? MonitorEvaluator.PredictionOutput(context.Spec, window);
        if (output is null || !window.Outputs.TryGetValue(output, out var predictions))
        {
            return WindowHookResult.Note($"no fairness: the window has no output '{output}' (outputs: {string.Join(", ", window.Outputs.Keys)})");
        }

        var rows = Enumerable.Range(0, window.Rows).Where(row => sensitive.All(values => values[row] is not null) && predictions[row] is not null).ToList();
        if (rows.Count < context.MinRows)
        {
            return WindowHookResult.Note($"no fairness: {rows.Count} rows have {string.Join(", ", columns.Select(column => $"a '{column}'"))} and a prediction, fewer than min_rows {context.MinRows}");
        }

        var groups = rows.Select(row => GroupOf(sensitive.Select(values => WindowValues.Text(values[row])!).ToList())).ToList();
        var predicted = rows.Select(row => WindowValues.Text(predictions[row]) == fairness.PositiveClass).ToArray();
        // Selection rates do not depend on the truth, so every row counts for them.
        var selection = Fairness.Assess(new bool[rows.Count], predicted, groups);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.DemographicParityDifference] = selection.DemographicParityDifference,
            [MonitorMetricNames.DemographicParityRatio] = selection.DemographicParityRatio,
        };
        var maxGroups = fairness.MaxGroups ?? MonitorFairness.DefaultMaxGroups;
        foreach (var group in Largest(selection.Groups, maxGroups))
        {
            metrics[MonitorMetricNames.SelectionRate(group.Group)] = group.SelectionRate;
        }

        List<string> notes = selection.Groups.Count > maxGroups
            ? [$"fairness: {selection.Groups.Count} groups; the disparities are over all of them, selection rates are stored for the {maxGroups} largest (max_groups)"]
            : [];
        var labelled = Enumerable.Range(0, rows.Count).Where(i => window.Outcomes[rows[i]] is not null).ToList();
        if (labelled.Count < context.MinRows)
        {
            return new WindowHookResult(metrics, [.. notes, $"no fairness.equal_opportunity_difference or equalized_odds_difference: {labelled.Count} rows have feedback, fewer than min_rows {context.MinRows}"]);
        }

        var report = Fairness.Assess(
            labelled.Select(i => window.Outcomes[rows[i]] == fairness.PositiveClass).ToArray(),
            labelled.Select(i => predicted[i]).ToArray(),
            labelled.Select(i => groups[i]).ToList());
        metrics[MonitorMetricNames.EqualOpportunityDifference] = report.EqualOpportunityDifference;
        metrics[MonitorMetricNames.EqualizedOddsDifference] = report.EqualizedOddsDifference;
        return new WindowHookResult(metrics, notes);
    }

    /// <summary>
    /// A row's group: its value of the one sensitive column, or its values of several joined by ',' in the order the
    /// columns are named (fairlearn's intersectional group, a tuple there), as the metric names carry it.
    /// </summary>
    public static string GroupOf(IReadOnlyList<string> values) => string.Join(',', values);

    /// <summary>The <paramref name="max"/> groups with the most rows (ties by name, ordinal), in name order.</summary>
    public static IEnumerable<GroupRates> Largest(IReadOnlyList<GroupRates> groups, int max) =>
        groups.Count <= max ? groups
            : groups.OrderByDescending(group => group.Count).ThenBy(group => group.Group, StringComparer.Ordinal).Take(max).OrderBy(group => group.Group, StringComparer.Ordinal);
}
