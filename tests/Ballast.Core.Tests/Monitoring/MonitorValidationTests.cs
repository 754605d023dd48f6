using Ballast.Monitoring;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring;

/// <summary>Monitor specs: every problem at once, defaults filled, and the window arithmetic.</summary>
public sealed class MonitorValidationTests
{
    private static readonly MonitorSpec Good = new("m", "iris", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "train"));

    [Fact]
    public void Defaults_are_filled_and_roc_auc_and_log_loss_are_only_defaults_with_probabilities()
    {
        var spec = MonitorValidation.Validate(Good with { Performance = new MonitorPerformance("classification") });
        (spec.MinRows, spec.Window!.Grace).ShouldBe((30L, "30s"));
        spec.Performance!.Metrics.ShouldBe(["accuracy", "precision", "recall", "f1"]);
        MonitorValidation.Validate(Good with { Performance = new MonitorPerformance("classification", Probabilities: "p") }).Performance!.Metrics
            .ShouldBe(["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]);
        MonitorValidation.Validate(Good with { Window = new MonitorWindow(Rows: 100) }).Window!.Grace.ShouldBeNull("row windows have no grace");
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var bad = new MonitorSpec("Bad Name", null, new MonitorWindow(Rows: 5), new MonitorReference(From: "2026-12-02T00:00:00Z", To: "2026-12-01T00:00:00Z"),
            Columns: new MonitorColumns(["a"], ["a"]), Prediction: new MonitorPrediction(Threshold: -1),
            Performance: new MonitorPerformance("classification", Metrics: ["roc_auc"], Classes: ["only"]), Kpis: ["Revenue"], MinRows: 0);
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(bad)).Message.ShouldBe(
            "Invalid monitor 'Bad Name': name 'Bad Name' must be 1 to 63 lowercase letters, digits or '-', starting with a letter; " +
            "endpoint: name the endpoint whose traffic is monitored; window.rows 5 must be between 10 and 1000000; reference: from must be before to; " +
            "columns: 'a' both included and excluded; prediction.threshold must be a finite number, 0 or more (got -1); " +
            "performance: roc_auc and log_loss need probabilities (the name of the model's [N, C] probability output); " +
            "performance.classes: name at least 2 classes (the probability output's columns, in order); " +
            "kpis: 'Revenue' is not a KPI name (lowercase letters, digits, '_' or '-', starting with a letter); min_rows 0 must be 1 or more.");
    }

    [Fact]
    public void Quality_estimated_fairness_multivariate_and_a_run_reference_list_every_problem_at_once()
    {
        var bad = Good with
        {
            Reference = new MonitorReference(Version: 2, Run: "abc"),
            Quality = new Ballast.Monitoring.Quality.ExpectationSuite(new Dictionary<string, Ballast.Monitoring.Quality.ColumnExpectations>()) is var empty
                ? new MonitorQuality(empty, FromEndpoint: true) : null,
            Estimated = new MonitorEstimated(null, "", Threshold: 1.5),
            Fairness = new MonitorFairness(null, null),
            Multivariate = new MonitorMultivariate("pca"),
        };
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(bad)).Message.ShouldBe(
            "Invalid monitor 'm': reference: version goes with dataset, not run (the run names its dataset version); " +
            "quality: give a suite or from_endpoint: true, not both; quality.suite.columns: name at least one column and its expectations (or give rows or multicolumn); " +
            "estimated.probability_output: name the model's output with the probability of the positive class; " +
            "estimated.positive_class: name the positive class (as the labels of feedback and of the reference write it, such as 1 or true); " +
            "estimated.threshold 1.5 must be between 0 and 1; fairness.sensitive: name the input column whose groups are compared (or sensitive_features for several); " +
            "fairness.positive_class: name the favourable predicted label (such as 1 or true); multivariate.method 'pca' is not reconstruction or domain_classifier.");
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Fairness = new MonitorFairness("region", "1", SensitiveFeatures: ["region", "sex"], MaxGroups: 0) }))
            .Message.ShouldBe("Invalid monitor 'm': fairness: give sensitive (one column) or sensitive_features (the columns whose combinations are the groups), not both; " +
                "fairness.max_groups 0 must be between 1 and 1000.");
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Fairness = new MonitorFairness(null, "1", SensitiveFeatures: ["region", "region"]) }))
            .Message.ShouldBe("Invalid monitor 'm': fairness.sensitive_features: a column is named twice (region, region).");
        MonitorValidation.Validate(Good with { Fairness = new MonitorFairness(null, "1", SensitiveFeatures: ["region", "sex"]) }).Fairness!.Columns().ShouldBe(["region", "sex"]);
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Reference = new MonitorReference(Dataset: "train", Run: "abc") }))
            .Message.ShouldContain("reference: give one of a dataset");
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Multivariate = new MonitorMultivariate("reconstruction", 0.6) }))
            .Message.ShouldContain("multivariate.threshold: reconstruction alerts outside the band the reference sets");
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Multivariate = new MonitorMultivariate("domain_classifier", 0.5) }))
            .Message.ShouldContain("multivariate.threshold 0.5 must be above 0.5 and at most 1");
        MonitorValidation.Validate(Good with { Reference = new MonitorReference(Run: "abc") }).Reference!.Run.ShouldBe("abc");
    }

    [Fact]
    public void Multiclass_estimated_names_its_classes_instead_of_a_positive_class()
    {
        MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated("probability", Classes: ["setosa", "versicolor", "virginica"]) })
            .Estimated!.Classes.ShouldBe(["setosa", "versicolor", "virginica"]);
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated("p", "1", 0.7, Classes: ["a", "a"]) })).Message.ShouldBe(
            "Invalid monitor 'm': estimated.classes: name at least 2 distinct classes, in the order of the probability output's columns; " +
            "estimated: give positive_class (binary) or classes (multiclass), not both; " +
            "estimated.threshold: a multiclass model predicts its most probable class; leave the threshold out.");
        Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated(null, Classes: ["a"]) })).Message.ShouldBe(
            "Invalid monitor 'm': estimated.probability_output: name the model's [N, C] output with the probability of each class; " +
            "estimated.classes: name at least 2 distinct classes, in the order of the probability output's columns.");
    }

    /// <summary>NannyML's <c>normalize_confusion_matrix</c> values only; anything else is refused naming them (YAML's boolean true reads as "true").</summary>
    [Fact]
    public void Estimated_normalize_confusion_matrix_is_true_pred_or_all()
    {
        foreach (var name in new[] { "true", "pred", "all" })
        {
            MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated("p", "1", NormalizeConfusionMatrix: name) }).Estimated!.NormalizeConfusionMatrix.ShouldBe(name);
        }

        MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated("p", Classes: ["a", "b", "c"], NormalizeConfusionMatrix: "pred") }).Estimated!.NormalizeConfusionMatrix.ShouldBe("pred");
        foreach (var name in new[] { "rows", "false", "True", "" })
        {
            Should.Throw<TrackingException>(() => MonitorValidation.Validate(Good with { Estimated = new MonitorEstimated("p", "1", NormalizeConfusionMatrix: name) })).Message.ShouldBe(
                $"Invalid monitor 'm': estimated.normalize_confusion_matrix '{name}' is not one of true, pred, all " +
                "(NannyML's: by the true class's row, the predicted class's column, or all rows); leave it out for expected counts.");
        }
    }

    [Theory]
    [InlineData(0, 600_000, 600_000)]
    [InlineData(599_999, 600_000, 600_000)]
    [InlineData(600_000, 600_000, 1_200_000)]
    [InlineData(650_000, 600_000, 1_200_000)]
    public void A_time_window_ends_at_the_next_multiple_of_its_duration(long start, long duration, long end) =>
        MonitorScheduler.WindowEnd(start, duration).ShouldBe(end);
}
