using Ballast.Monitoring.Quality;

namespace Ballast.Monitoring;

/// <summary>
/// The metric names a monitor's windows have (docs/monitoring.md, "Metrics of a window"): the names and the functions
/// that build them, which <see cref="MonitorEvaluator"/> and its window hooks write with, and <see cref="Problem"/>,
/// which judges from a stored spec whether its windows can have a name, so that an alert rule on a name no window of
/// the monitor will ever have is refused rather than never evaluated. Both sides use what is here, so they cannot drift
/// apart. Names whose last part only the traffic decides (a drift column, a segment's value, a fairness group, a
/// quality expectation) are taken when the monitor computes that family.
/// </summary>
public static class MonitorMetricNames
{
    public const string Rows = "rows";
    public const string ErrorRate = "errors.rate";
    public const string LatencyP50 = "latency.p50_ms";
    public const string LatencyP95 = "latency.p95_ms";
    public const string LatencyP99 = "latency.p99_ms";

    public const string DriftShare = "drift.share";
    public const string DatasetDrift = "drift.dataset";
    public const string DriftedColumns = "drift.drifted_columns";
    public const string PredictionDrift = "prediction.drift";
    public const string PredictionDrifted = "prediction.drift.drifted";

    /// <summary>The feedback rows a performance measurement (of the window or of a segment) is computed on.</summary>
    public const string LabelledRows = "labelled_rows";

    public const string KpiSum = "sum";
    public const string KpiMean = "mean";
    public const string KpiCount = "count";

    public const string EstimatedAccuracy = "estimated.accuracy";
    public const string EstimatedPrecision = "estimated.precision";
    public const string EstimatedRecall = "estimated.recall";
    public const string EstimatedF1 = "estimated.f1";
    public const string EstimatedRocAuc = "estimated.roc_auc";
    public const string EstimatedSpecificity = "estimated.specificity";

    /// <summary>
    /// A binary classifier's expected confusion-matrix cells (NannyML's <c>true_positive</c>, … components): counts, or
    /// fractions in [0, 1] under the spec's <c>estimated.normalize_confusion_matrix</c> (the names are the same).
    /// </summary>
    public const string EstimatedTruePositive = "estimated.true_positive";
    public const string EstimatedFalsePositive = "estimated.false_positive";
    public const string EstimatedTrueNegative = "estimated.true_negative";
    public const string EstimatedFalseNegative = "estimated.false_negative";
    public const string EstimatedCalibrated = "estimated.calibrated";
    public const string EstimatedRows = "estimated.rows";

    /// <summary>The suffix of an estimate's sampling error: <c>estimated.accuracy.sampling_error</c>.</summary>
    public const string SamplingErrorSuffix = ".sampling_error";

    public const string DemographicParityDifference = "fairness.demographic_parity_difference";
    public const string DemographicParityRatio = "fairness.demographic_parity_ratio";
    public const string EqualOpportunityDifference = "fairness.equal_opportunity_difference";
    public const string EqualizedOddsDifference = "fairness.equalized_odds_difference";

    /// <summary>The share of the window's rows whose request was flagged at serving (the endpoint's expectations, mode flag).</summary>
    public const string QualityFlaggedRate = "quality.flagged_rate";

    /// <summary>How many of the suite's expectations failed on the window.</summary>
    public const string QualityFailed = "quality.failed";

    /// <summary>The share of the window's rows that break any row-level expectation.</summary>
    public const string QualityViolationRate = "quality.violation_rate";

    public const string ReconstructionError = "multivariate.reconstruction_error";
    public const string ReconstructionErrorLower = "multivariate.reconstruction_error.lower";
    public const string ReconstructionErrorUpper = "multivariate.reconstruction_error.upper";
    public const string DomainAuc = "multivariate.domain_auc";
    public const string MultivariateDrifted = "multivariate.drifted";

    /// <summary>What every window has, whatever the spec.</summary>
    public static IReadOnlyList<string> Always { get; } = [Rows, ErrorRate, LatencyP50, LatencyP95, LatencyP99];

    /// <summary>A KPI's metrics in a window.</summary>
    public static IReadOnlyList<string> KpiParts { get; } = [KpiSum, KpiMean, KpiCount];

    private static readonly string[] Drift = [DriftShare, DatasetDrift, DriftedColumns];
    private static readonly string[] Prediction = [PredictionDrift, PredictionDrifted];
    private static readonly string[] Estimates = [EstimatedAccuracy, EstimatedPrecision, EstimatedRecall, EstimatedSpecificity, EstimatedF1, EstimatedRocAuc];

    /// <summary>CBPE's estimates that are rates in [0, 1] (not the confusion-matrix counts), whose band is clipped to [0, 1].</summary>
    public static IReadOnlyList<string> EstimatedRates { get; } = Estimates;
    private static readonly string[] BinaryCells = [EstimatedTruePositive, EstimatedFalsePositive, EstimatedTrueNegative, EstimatedFalseNegative];
    private static readonly string[] Fairness = [DemographicParityDifference, DemographicParityRatio, EqualOpportunityDifference, EqualizedOddsDifference];
    private static readonly string[] Reconstruction = [ReconstructionError, ReconstructionErrorLower, ReconstructionErrorUpper, MultivariateDrifted];
    private static readonly string[] DomainClassifier = [DomainAuc, MultivariateDrifted];

    private const string DriftPrefix = "drift.";
    private const string DriftedSuffix = ".drifted";
    private const string PerformancePrefix = "performance.";
    private const string KpiPrefix = "kpi.";
    private const string SegmentPrefix = "segment.";
    private const string SelectionRateSuffix = ".selection_rate";
    private const string GroupPrefix = "fairness.group.";
    private const string QualityPrefix = "quality.";

    /// <summary><c>drift.COLUMN</c>: the column's drift score.</summary>
    public static string ColumnDrift(string column) => DriftPrefix + column;

    /// <summary><c>drift.COLUMN.drifted</c>: 1 when the column drifted.</summary>
    public static string ColumnDrifted(string column) => DriftPrefix + column + DriftedSuffix;

    /// <summary><c>performance.METRIC</c> (a name of <c>performance.metrics</c>, or <see cref="LabelledRows"/>).</summary>
    public static string Performance(string metric) => PerformancePrefix + metric;

    /// <summary><c>kpi.NAME.PART</c>, a part of <see cref="KpiParts"/>.</summary>
    public static string Kpi(string kpi, string part) => $"{KpiPrefix}{kpi}.{part}";

    /// <summary>
    /// <c>segment.COLUMN=VALUE.METRIC</c>: a segment's <see cref="Rows"/>, <see cref="DriftShare"/> or
    /// <see cref="Performance"/> metric.
    /// </summary>
    public static string Segment(string column, string value, string metric) => $"{SegmentPrefix}{column}={value}.{metric}";

    /// <summary><c>estimated.METRIC.sampling_error</c>: the standard error of a CBPE estimate on the window's rows.</summary>
    public static string SamplingError(string estimate) => estimate + SamplingErrorSuffix;

    /// <summary>
    /// <c>estimated.true_A_pred_B</c>: a multiclass classifier's expected count of rows of true class A predicted as B
    /// (NannyML's <c>true_{true_class}_pred_{pred_class}</c> components), or that count normalized.
    /// </summary>
    public static string EstimatedConfusion(string trueClass, string predictedClass) => $"estimated.true_{trueClass}_pred_{predictedClass}";

    /// <summary>
    /// Every estimated metric of a monitor's CBPE: the estimates and the confusion-matrix counts (binary cells, or one
    /// per pair of <c>estimated.classes</c>), each with its sampling error, then <c>calibrated</c> and <c>rows</c>.
    /// </summary>
    public static IReadOnlyList<string> EstimatedNames(MonitorEstimated estimated)
    {
        string[] values = [.. Estimates, .. EstimatedCells(estimated)];
        return [.. values, .. values.Select(SamplingError), EstimatedCalibrated, EstimatedRows];
    }

    /// <summary>
    /// The expected confusion-matrix cells of a monitor's CBPE (counts, or fractions with <c>normalize_confusion_matrix</c>):
    /// the binary four, or <c>estimated.true_A_pred_B</c> for every pair of <c>estimated.classes</c>, row by row.
    /// </summary>
    public static IReadOnlyList<string> EstimatedCells(MonitorEstimated estimated)
    {
        ArgumentNullException.ThrowIfNull(estimated);
        return estimated.Classes is { Count: > 0 } classes
            ? classes.SelectMany(truth => classes.Select(predicted => EstimatedConfusion(truth, predicted))).ToArray()
            : BinaryCells;
    }

    /// <summary><c>fairness.group.VALUE.selection_rate</c>.</summary>
    public static string SelectionRate(string group) => GroupPrefix + group + SelectionRateSuffix;

    /// <summary>
    /// <c>quality.COLUMN.EXPECTATION</c>, or <c>quality.row_count</c> for the table's row count: one expectation's metric,
    /// named after <see cref="ExpectationResult.Name"/> (the unexpected share of the rows; for row_count and the column
    /// aggregates such as <c>quality.amount.mean</c>, 1 when the window's value is out of bounds).
    /// </summary>
    public static string Quality(string column, string expectation) =>
        QualityPrefix + (column.Length == 0 ? expectation : $"{column}.{expectation}");

    /// <summary>
    /// Every data-quality metric a window checked against <paramref name="suite"/> can have: <see cref="QualityFlaggedRate"/>,
    /// then one per expectation in the suite's order (<c>quality.row_count</c> first), then <see cref="QualityFailed"/> and
    /// <see cref="QualityViolationRate"/>. A column the window lacks reports <c>quality.COLUMN.exists</c> instead of its
    /// expectations, so each column's <c>exists</c> is listed too, after its expectations; a pair kind written as a list of
    /// other columns has one per column (<c>quality.checkout.greater_than[signup]</c>); the multicolumn expectations
    /// (<c>quality.a+b.sum_to_equal</c>) come after the columns.
    /// </summary>
    public static IReadOnlyList<string> QualityNames(ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var names = new List<string> { QualityFlaggedRate };
        if (suite.Rows is not null)
        {
            names.Add(Quality("", ExpectationKinds.RowCount));
        }

        foreach (var (column, expectations) in suite.Columns)
        {
            names.AddRange(expectations.Expectations().Select(expectation => Quality(column, expectation)));
            names.Add(Quality(column, ExpectationKinds.Exists));
        }

        names.AddRange(suite.Multicolumn.Where(multi => multi.Kind is not null).Select(multi => Quality(multi.Name, multi.Kind!)));
        names.Add(QualityFailed);
        names.Add(QualityViolationRate);
        return names;
    }

    /// <summary>
    /// The data-quality metrics windows of <paramref name="spec"/> can have (<see cref="QualityNames(ExpectationSuite)"/>)
    /// with the suite they are checked against: the monitor's <c>quality.suite</c>, else the endpoint's own expectations
    /// (<paramref name="endpointSuite"/>, read when the window is); none when quality is turned off or there is no suite.
    /// </summary>
    public static IReadOnlyList<string> QualityNames(MonitorSpec spec, ExpectationSuite? endpointSuite = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Quality?.Enabled is false || (spec.Quality?.Suite ?? endpointSuite) is not { } suite ? [] : QualityNames(suite);
    }

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

        if (metric.StartsWith(DriftPrefix, StringComparison.Ordinal))
        {
            return DriftColumnProblem(spec, monitor, metric[DriftPrefix.Length..]);
        }

        if (metric.StartsWith(PerformancePrefix, StringComparison.Ordinal))
        {
            return PerformanceProblem(spec, monitor, metric[PerformancePrefix.Length..], metric);
        }

        if (metric.StartsWith(KpiPrefix, StringComparison.Ordinal))
        {
            var kpis = spec.Kpis ?? [];
            return kpis.Any(kpi => KpiParts.Any(part => metric == Kpi(kpi, part))) ? null
                : kpis.Count == 0 ? $"{monitor} follows no KPI (kpis), so it reports no '{metric}'"
                : $"{monitor} reports no '{metric}': its KPI metrics are {Kpi("NAME", KpiParts[0])}, {string.Join(" and ", KpiParts.Skip(1).Select(part => "." + part))} for {string.Join(", ", kpis)}";
        }

        if (metric.StartsWith(SegmentPrefix, StringComparison.Ordinal))
        {
            return SegmentProblem(spec, monitor, metric);
        }

        if (metric.StartsWith(QualityPrefix, StringComparison.Ordinal))
        {
            return spec.Quality?.Enabled is false ? $"{monitor} has data quality turned off (quality.enabled: false), so it reports no '{metric}'" : null;
        }

        if (metric.StartsWith("estimated.", StringComparison.Ordinal))
        {
            if (spec.Estimated is null)
            {
                return $"{monitor} estimates no performance (estimated), so it reports no '{metric}'";
            }

            var estimated = EstimatedNames(spec.Estimated);
            return estimated.Contains(metric) ? null : $"{monitor} reports no '{metric}': its estimated metrics are {string.Join(", ", estimated)}";
        }

        if (metric.StartsWith("fairness.", StringComparison.Ordinal))
        {
            return spec.Fairness is null ? $"{monitor} measures no fairness (fairness), so it reports no '{metric}'"
                : Fairness.Contains(metric) || (metric.StartsWith(GroupPrefix, StringComparison.Ordinal) && metric.EndsWith(SelectionRateSuffix, StringComparison.Ordinal)) ? null
                : $"{monitor} reports no '{metric}': its fairness metrics are {string.Join(", ", Fairness)} and {SelectionRate("VALUE")}";
        }

        if (metric.StartsWith("multivariate.", StringComparison.Ordinal))
        {
            string[] names = spec.Multivariate?.Method switch
            {
                null => [],
                "domain_classifier" => DomainClassifier,
                _ => Reconstruction,
            };
            return names.Contains(metric) ? null
                : names.Length == 0 ? $"{monitor} measures no multivariate drift (multivariate), so it reports no '{metric}'"
                : $"{monitor} reports no '{metric}': with multivariate.method {spec.Multivariate!.Method} it reports {string.Join(", ", names)}";
        }

        return $"{monitor} reports no metric '{metric}' (a monitor reports {string.Join(", ", Always)}, drift.share, drift.COLUMN, prediction.drift, " +
            "performance.METRIC, kpi.NAME.sum, segment.COLUMN=VALUE.rows, quality.…, estimated.…, fairness.…, multivariate.…; see docs/monitoring.md)";
    }

    /// <summary><c>drift.COLUMN</c> or <c>drift.COLUMN.drifted</c>: any input column, unless the spec's columns leave it out.</summary>
    private static string? DriftColumnProblem(MonitorSpec spec, string monitor, string rest)
    {
        var candidates = rest.EndsWith(DriftedSuffix, StringComparison.Ordinal) ? new[] { rest, rest[..^DriftedSuffix.Length] } : [rest];
        var include = spec.Columns?.Include is { Count: > 0 } named ? named : null;
        var exclude = spec.Columns?.Exclude ?? [];
        if (candidates.Any(column => !exclude.Contains(column) && (include is null || include.Contains(column))))
        {
            return null;
        }

        return include is null
            ? $"{monitor} leaves column '{candidates[^1]}' out (columns.exclude), so it reports no '{DriftPrefix}{rest}'"
            : $"{monitor} compares only {string.Join(", ", include.Where(column => !exclude.Contains(column)))} (columns), so it reports no '{DriftPrefix}{rest}'";
    }

    private static string? PerformanceProblem(MonitorSpec spec, string monitor, string name, string metric)
    {
        if (spec.Performance is not { } performance)
        {
            return $"{monitor} measures no performance (performance), so it reports no '{metric}'";
        }

        var measured = (performance.Metrics ?? []).Append(LabelledRows).ToList();
        return measured.Contains(name) ? null : $"{monitor} reports no '{metric}': its performance metrics are {string.Join(", ", measured.Select(Performance))}";
    }

    /// <summary><c>segment.COLUMN=VALUE.rows</c>, <c>.drift.share</c> or <c>.performance.METRIC</c> for a column in <c>segments</c>.</summary>
    private static string? SegmentProblem(MonitorSpec spec, string monitor, string metric)
    {
        var segments = spec.Segments ?? [];
        if (segments.Count == 0)
        {
            return $"{monitor} has no segments, so it reports no '{metric}'";
        }

        var rest = segments.Where(column => metric.StartsWith($"{SegmentPrefix}{column}=", StringComparison.Ordinal))
            .Select(column => metric[$"{SegmentPrefix}{column}=".Length..]).FirstOrDefault();
        if (rest is null)
        {
            return $"{monitor} reports no '{metric}': its segment metrics are {Segment("COLUMN", "VALUE", Rows)}, .{DriftShare} and .{Performance("METRIC")} for {string.Join(", ", segments)}";
        }

        if (rest.EndsWith("." + Rows, StringComparison.Ordinal) || rest.EndsWith("." + DriftShare, StringComparison.Ordinal))
        {
            return null;
        }

        var performance = rest.LastIndexOf("." + PerformancePrefix, StringComparison.Ordinal);
        return performance >= 0 ? PerformanceProblem(spec, monitor, rest[(performance + 1 + PerformancePrefix.Length)..], metric)
            : $"{monitor} reports no '{metric}': a segment's metrics end in .{Rows}, .{DriftShare} or .{Performance("METRIC")}";
    }
}
