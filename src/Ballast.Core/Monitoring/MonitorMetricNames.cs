namespace Ballast.Monitoring;

/// <summary>
/// The metric names a monitor's windows can have (docs/monitoring.md, "Metrics of a window"), judged from its stored
/// spec, so that an alert rule on a name no window of the monitor will ever have is refused rather than never evaluated.
/// Names whose last part only the traffic decides (a drift column, a segment's value, a fairness group, a quality
/// expectation) are taken when the monitor computes that family; keep this beside <see cref="MonitorEvaluator"/> and its hooks.
/// </summary>
public static class MonitorMetricNames
{
    /// <summary>What every window has, whatever the spec.</summary>
    public static IReadOnlyList<string> Always { get; } = ["rows", "errors.rate", "latency.p50_ms", "latency.p95_ms", "latency.p99_ms"];

    private static readonly string[] Drift = ["drift.share", "drift.dataset", "drift.drifted_columns"];
    private static readonly string[] Prediction = ["prediction.drift", "prediction.drift.drifted"];
    private static readonly string[] Estimated = ["accuracy", "precision", "recall", "f1", "roc_auc", "calibrated", "rows"];
    private static readonly string[] Fairness = ["demographic_parity_difference", "demographic_parity_ratio", "equal_opportunity_difference", "equalized_odds_difference"];
    private static readonly string[] KpiParts = ["sum", "mean", "count"];

    /// <summary>
    /// Null when windows of <paramref name="spec"/> (a stored, validated monitor) can have <paramref name="metric"/>;
    /// otherwise why not, naming the monitor and what it does report.
    /// </summary>
    public static string? Problem(MonitorSpec spec, string metric)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(metric);
        var monitor = $"monitor '{spec.Name}'";
        if (Always.Contains(metric) || Drift.Contains(metric))
        {
            return null;
        }

        if (Prediction.Contains(metric))
        {
            return spec.Prediction?.Enabled is false ? $"{monitor} has prediction drift turned off (prediction.enabled: false), so it reports no '{metric}'" : null;
        }

        if (metric.StartsWith("drift.", StringComparison.Ordinal))
        {
            return DriftColumn(spec, monitor, metric["drift.".Length..]);
        }

        if (metric.StartsWith("performance.", StringComparison.Ordinal))
        {
            return Performance(spec, monitor, metric["performance.".Length..], metric);
        }

        if (metric.StartsWith("kpi.", StringComparison.Ordinal))
        {
            var kpis = spec.Kpis ?? [];
            return kpis.Any(kpi => KpiParts.Any(part => metric == $"kpi.{kpi}.{part}")) ? null
                : kpis.Count == 0 ? $"{monitor} follows no KPI (kpis), so it reports no '{metric}'"
                : $"{monitor} reports no '{metric}': its KPI metrics are kpi.NAME.sum, .mean and .count for {string.Join(", ", kpis)}";
        }

        if (metric.StartsWith("segment.", StringComparison.Ordinal))
        {
            return Segment(spec, monitor, metric);
        }

        if (metric.StartsWith("quality.", StringComparison.Ordinal))
        {
            return spec.Quality?.Enabled is false ? $"{monitor} has data quality turned off (quality.enabled: false), so it reports no '{metric}'" : null;
        }

        if (metric.StartsWith("estimated.", StringComparison.Ordinal))
        {
            return spec.Estimated is null ? $"{monitor} estimates no performance (estimated), so it reports no '{metric}'"
                : Estimated.Contains(metric["estimated.".Length..]) ? null
                : $"{monitor} reports no '{metric}': its estimated metrics are {string.Join(", ", Estimated.Select(name => "estimated." + name))}";
        }

        if (metric.StartsWith("fairness.", StringComparison.Ordinal))
        {
            return spec.Fairness is null ? $"{monitor} measures no fairness (fairness), so it reports no '{metric}'"
                : Fairness.Contains(metric["fairness.".Length..]) || (metric.StartsWith("fairness.group.", StringComparison.Ordinal) && metric.EndsWith(".selection_rate", StringComparison.Ordinal)) ? null
                : $"{monitor} reports no '{metric}': its fairness metrics are {string.Join(", ", Fairness.Select(name => "fairness." + name))} and fairness.group.VALUE.selection_rate";
        }

        if (metric.StartsWith("multivariate.", StringComparison.Ordinal))
        {
            string[] names = spec.Multivariate?.Method switch
            {
                null => [],
                "domain_classifier" => ["multivariate.domain_auc", "multivariate.drifted"],
                _ => ["multivariate.reconstruction_error", "multivariate.reconstruction_error.lower", "multivariate.reconstruction_error.upper", "multivariate.drifted"],
            };
            return names.Contains(metric) ? null
                : names.Length == 0 ? $"{monitor} measures no multivariate drift (multivariate), so it reports no '{metric}'"
                : $"{monitor} reports no '{metric}': with multivariate.method {spec.Multivariate!.Method} it reports {string.Join(", ", names)}";
        }

        return $"{monitor} reports no metric '{metric}' (a monitor reports {string.Join(", ", Always)}, drift.share, drift.COLUMN, prediction.drift, " +
            "performance.METRIC, kpi.NAME.sum, segment.COLUMN=VALUE.rows, quality.…, estimated.…, fairness.…, multivariate.…; see docs/monitoring.md)";
    }

    /// <summary><c>drift.COLUMN</c> or <c>drift.COLUMN.drifted</c>: any input column, unless the spec's columns leave it out.</summary>
    private static string? DriftColumn(MonitorSpec spec, string monitor, string rest)
    {
        var candidates = rest.EndsWith(".drifted", StringComparison.Ordinal) ? new[] { rest, rest[..^".drifted".Length] } : [rest];
        var include = spec.Columns?.Include is { Count: > 0 } named ? named : null;
        var exclude = spec.Columns?.Exclude ?? [];
        if (candidates.Any(column => !exclude.Contains(column) && (include is null || include.Contains(column))))
        {
            return null;
        }

        return include is null
            ? $"{monitor} leaves column '{candidates[^1]}' out (columns.exclude), so it reports no 'drift.{rest}'"
            : $"{monitor} compares only {string.Join(", ", include.Where(column => !exclude.Contains(column)))} (columns), so it reports no 'drift.{rest}'";
    }

    private static string? Performance(MonitorSpec spec, string monitor, string name, string metric)
    {
        if (spec.Performance is not { } performance)
        {
            return $"{monitor} measures no performance (performance), so it reports no '{metric}'";
        }

        var measured = (performance.Metrics ?? []).Append("labelled_rows").ToList();
        return measured.Contains(name) ? null : $"{monitor} reports no '{metric}': its performance metrics are {string.Join(", ", measured.Select(known => "performance." + known))}";
    }

    /// <summary><c>segment.COLUMN=VALUE.rows</c>, <c>.drift.share</c> or <c>.performance.METRIC</c> for a column in <c>segments</c>.</summary>
    private static string? Segment(MonitorSpec spec, string monitor, string metric)
    {
        var segments = spec.Segments ?? [];
        if (segments.Count == 0)
        {
            return $"{monitor} has no segments, so it reports no '{metric}'";
        }

        var rest = segments.Where(column => metric.StartsWith($"segment.{column}=", StringComparison.Ordinal))
            .Select(column => metric[$"segment.{column}=".Length..]).FirstOrDefault();
        if (rest is null)
        {
            return $"{monitor} reports no '{metric}': its segment metrics are segment.COLUMN=VALUE.rows, .drift.share and .performance.METRIC for {string.Join(", ", segments)}";
        }

        if (rest.EndsWith(".rows", StringComparison.Ordinal) || rest.EndsWith(".drift.share", StringComparison.Ordinal))
        {
            return null;
        }

        var performance = rest.LastIndexOf(".performance.", StringComparison.Ordinal);
        return performance >= 0 ? Performance(spec, monitor, rest[(performance + ".performance.".Length)..], metric)
            : $"{monitor} reports no '{metric}': a segment's metrics end in .rows, .drift.share or .performance.METRIC";
    }
}
