using Ballast.Monitoring;
using Ballast.Monitoring.Quality;

namespace Ballast.Tests.Monitoring;

/// <summary>Which metric names a monitor's windows can have (docs/monitoring.md, "Metrics of a window"), as alert rules are checked against them.</summary>
public sealed class MonitorMetricNamesTests
{
    private static readonly MonitorSpec Bare = MonitorValidation.Validate(new MonitorSpec("iris-drift", "iris", new MonitorWindow(Duration: "1h"), new MonitorReference(Dataset: "iris-train")));

    private static readonly MonitorSpec Full = MonitorValidation.Validate(Bare with
    {
        Columns = new MonitorColumns(Exclude: ["id"]),
        Performance = new MonitorPerformance("classification", Output: "label"),
        Segments = ["region"],
        Kpis = ["revenue"],
        Estimated = new MonitorEstimated("probabilities[1]", "1"),
        Fairness = new MonitorFairness("gender", "1"),
        Multivariate = new MonitorMultivariate("domain_classifier"),
    });

    [Theory]
    [InlineData("rows")]
    [InlineData("errors.rate")]
    [InlineData("latency.p99_ms")]
    [InlineData("drift.share")]
    [InlineData("drift.petal.length")]
    [InlineData("drift.petal.length.drifted")]
    [InlineData("prediction.drift")]
    [InlineData("quality.age.max")]
    public void What_every_monitor_reports_is_taken(string metric) => MonitorMetricNames.Problem(Bare, metric).ShouldBeNull();

    [Theory]
    [InlineData("performance.accuracy")]
    [InlineData("performance.labelled_rows")]
    [InlineData("kpi.revenue.mean")]
    [InlineData("segment.region=north.rows")]
    [InlineData("segment.region=n.e.drift.share")]
    [InlineData("segment.region=north.performance.f1")]
    [InlineData("estimated.roc_auc")]
    [InlineData("estimated.accuracy.sampling_error")]
    [InlineData("estimated.roc_auc.sampling_error")]
    [InlineData("estimated.specificity")]
    [InlineData("estimated.specificity.sampling_error")]
    [InlineData("estimated.true_positive")]
    [InlineData("estimated.false_negative.sampling_error")]
    [InlineData("fairness.group.female.selection_rate")]
    [InlineData("fairness.equalized_odds_difference")]
    [InlineData("multivariate.domain_auc")]
    public void What_the_spec_asks_for_is_taken(string metric) => MonitorMetricNames.Problem(Full, metric).ShouldBeNull();

    [Theory]
    [InlineData("drift.sahre", null)]
    [InlineData("drfit.share", "monitor 'iris-drift' reports no metric 'drfit.share' (a monitor reports rows, errors.rate, latency.p50_ms")]
    [InlineData("performance.accuracy", "monitor 'iris-drift' measures no performance (performance), so it reports no 'performance.accuracy'")]
    [InlineData("kpi.revenue.sum", "monitor 'iris-drift' follows no KPI (kpis), so it reports no 'kpi.revenue.sum'")]
    [InlineData("segment.region=north.rows", "monitor 'iris-drift' has no segments, so it reports no 'segment.region=north.rows'")]
    [InlineData("estimated.f1", "monitor 'iris-drift' estimates no performance (estimated), so it reports no 'estimated.f1'")]
    [InlineData("multivariate.drifted", "monitor 'iris-drift' measures no multivariate drift (multivariate), so it reports no 'multivariate.drifted'")]
    public void A_name_the_monitor_never_reports_is_refused_with_why(string metric, string? problem)
    {
        // drift.COLUMN takes any column: a misspelt drift.share reads as a column, which only the traffic can rule out.
        if (problem is null)
        {
            MonitorMetricNames.Problem(Bare, metric).ShouldBeNull();
            return;
        }

        MonitorMetricNames.Problem(Bare, metric)!.ShouldStartWith(problem);
    }

    [Theory]
    [InlineData("performance.mae", "monitor 'iris-drift' reports no 'performance.mae': its performance metrics are performance.accuracy, performance.precision, performance.recall, performance.f1, performance.labelled_rows")]
    [InlineData("kpi.churn.mean", "monitor 'iris-drift' reports no 'kpi.churn.mean': its KPI metrics are kpi.NAME.sum, .mean and .count for revenue")]
    [InlineData("segment.city=paris.rows", "monitor 'iris-drift' reports no 'segment.city=paris.rows': its segment metrics are segment.COLUMN=VALUE.rows, .drift.share and .performance.METRIC for region")]
    [InlineData("drift.id", "monitor 'iris-drift' leaves column 'id' out (columns.exclude), so it reports no 'drift.id'")]
    [InlineData("multivariate.reconstruction_error", "monitor 'iris-drift' reports no 'multivariate.reconstruction_error': with multivariate.method domain_classifier it reports multivariate.domain_auc, multivariate.drifted")]
    public void A_name_outside_what_the_spec_asks_for_is_refused_with_what_it_does_report(string metric, string problem) =>
        MonitorMetricNames.Problem(Full, metric).ShouldBe(problem);

    [Fact]
    public void A_multiclass_monitor_reports_a_confusion_count_per_pair_of_its_classes_not_the_binary_cells()
    {
        var multiclass = Full with { Estimated = new MonitorEstimated("probability", Classes: ["setosa", "versicolor"]) };

        MonitorMetricNames.Problem(multiclass, "estimated.true_setosa_pred_versicolor").ShouldBeNull();
        MonitorMetricNames.Problem(multiclass, "estimated.true_versicolor_pred_versicolor.sampling_error").ShouldBeNull();
        MonitorMetricNames.Problem(multiclass, "estimated.specificity").ShouldBeNull();
        MonitorMetricNames.Problem(multiclass, "estimated.true_positive")!.ShouldStartWith(
            "monitor 'iris-drift' reports no 'estimated.true_positive': its estimated metrics are estimated.accuracy, estimated.precision, estimated.recall, " +
            "estimated.specificity, estimated.f1, estimated.roc_auc, estimated.true_setosa_pred_setosa, estimated.true_setosa_pred_versicolor, ");
        MonitorMetricNames.Problem(Full, "estimated.true_setosa_pred_setosa")!.ShouldStartWith("monitor 'iris-drift' reports no 'estimated.true_setosa_pred_setosa': its estimated metrics are ");
        MonitorMetricNames.EstimatedNames(Full.Estimated!).Count.ShouldBe((6 + 4) * 2 + 2);
        MonitorMetricNames.EstimatedNames(multiclass.Estimated!).Count.ShouldBe((6 + 4) * 2 + 2);
    }

    [Fact]
    public void A_monitor_with_expectations_lists_its_quality_metrics_in_the_suites_order()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"rows": {"min": 10}, "columns": {"age": {"required": true, "min": 0, "max": 120}, "z": {"greater_than": "x"}, "region": {"allowed": ["a", "b"]}}}
            """);
        var spec = Bare with { Quality = new MonitorQuality(suite) };

        string[] expected =
        [
            "quality.flagged_rate", "quality.row_count",
            "quality.age.required", "quality.age.min", "quality.age.max", "quality.age.exists",
            "quality.z.greater_than", "quality.z.exists",
            "quality.region.allowed", "quality.region.exists",
            "quality.failed", "quality.violation_rate",
        ];
        MonitorMetricNames.QualityNames(spec).ShouldBe(expected);
        MonitorMetricNames.QualityNames(suite).ShouldBe(expected);
        MonitorMetricNames.QualityNames(spec).ShouldAllBe(metric => MonitorMetricNames.Problem(spec, metric) == null);
        // The endpoint's expectations when the monitor names no suite; its own suite when it does; none when turned off.
        MonitorMetricNames.QualityNames(Bare).ShouldBeEmpty();
        MonitorMetricNames.QualityNames(Bare, suite).ShouldBe(expected);
        MonitorMetricNames.QualityNames(spec, ExpectationSuiteReader.Parse("""{"columns": {"x": {"min": 0}}}""")).ShouldBe(expected);
        MonitorMetricNames.QualityNames(Bare with { Quality = new MonitorQuality(suite, Enabled: false) }, suite).ShouldBeEmpty();
    }
}
