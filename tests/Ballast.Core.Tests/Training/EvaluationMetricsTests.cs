using Ballast.Training;

namespace Ballast.Tests.Training;

/// <summary>Metric definitions checked against the examples in scikit-learn's documentation (scikit-learn 1.5 docstrings).</summary>
public sealed class EvaluationMetricsTests
{
    [Fact]
    public void Auc_matches_roc_auc_score_documented_example()
    {
        // sklearn.metrics.roc_auc_score docstring / user guide: y_true = [0, 0, 1, 1], y_scores = [0.1, 0.4, 0.35, 0.8] → 0.75.
        EvaluationMetrics.Auc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]).ShouldBe(0.75, 1e-12);
    }

    [Fact]
    public void Auc_counts_ties_as_half_and_is_undefined_with_one_class()
    {
        // Mann-Whitney with mid-ranks, as roc_auc_score: one tied positive/negative pair of four counts 0.5 → (3 + 0.5) / 4.
        EvaluationMetrics.Auc([false, false, true, true], [0.1, 0.5, 0.5, 0.8]).ShouldBe(0.875, 1e-12);
        double.IsNaN(EvaluationMetrics.Auc([true, true], [0.2, 0.9])).ShouldBeTrue();
    }

    [Fact]
    public void Log_loss_matches_log_loss_documented_example()
    {
        // sklearn.metrics.log_loss docstring: log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]])
        // → 0.21616..., with "spam" the second (positive) class.
        var metrics = EvaluationMetrics.Binary([true, false, false, true], [0.9, 0.1, 0.2, 0.65], [true, false, false, true]);

        metrics[MetricNames.LogLoss].ShouldBe(0.21616187468057912, 1e-12);
    }

    [Fact]
    public void Precision_recall_and_f1_match_the_documented_binary_example()
    {
        // sklearn.metrics.precision_recall_fscore_support / f1_score: y_true = [0, 1, 1, 0, 1, 1], y_pred = [0, 0, 1, 0, 0, 1]
        // (the user guide's binary example): precision 1.0, recall 0.5, f1 0.666…, accuracy 4/6.
        var metrics = EvaluationMetrics.Binary([false, true, true, false, true, true], [0.2, 0.4, 0.8, 0.1, 0.3, 0.9], [false, false, true, false, false, true]);

        metrics[MetricNames.Precision].ShouldBe(1.0, 1e-12);
        metrics[MetricNames.Recall].ShouldBe(0.5, 1e-12);
        metrics[MetricNames.F1].ShouldBe(2.0 / 3, 1e-12);
        metrics[MetricNames.Accuracy].ShouldBe(4.0 / 6, 1e-12);
    }

    [Fact]
    public void Macro_accuracy_matches_balanced_accuracy_score_documented_example()
    {
        // sklearn.metrics.balanced_accuracy_score docstring: y_true = [0, 1, 0, 0, 1, 0], y_pred = [0, 1, 0, 0, 0, 1] → 0.625.
        string[] actual = ["0", "1", "0", "0", "1", "0"];
        string[] predicted = ["0", "1", "0", "0", "0", "1"];

        var metrics = EvaluationMetrics.Multiclass(actual, predicted, [0.9, 0.8, 0.9, 0.9, 0.4, 0.3]);

        metrics[MetricNames.AccuracyMacro].ShouldBe(0.625, 1e-12);
        metrics[MetricNames.AccuracyMicro].ShouldBe(4.0 / 6, 1e-12);
    }

    [Fact]
    public void Multiclass_log_loss_matches_log_loss_on_three_classes()
    {
        // log_loss([0, 1, 2], [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]) = -(ln 0.7 + ln 0.6 + ln 0.6) / 3 = 0.459442...
        var metrics = EvaluationMetrics.Multiclass(["a", "b", "c"], ["a", "b", "c"], [0.7, 0.6, 0.6]);

        metrics[MetricNames.LogLoss].ShouldBe(0.4594420638235713, 1e-12);
    }

    [Fact]
    public void Regression_metrics_match_the_documented_examples()
    {
        // sklearn.metrics docstrings with y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]:
        // mean_absolute_error → 0.5; mean_squared_error → 0.375 (rmse √0.375); r2_score → 0.948...;
        // mean_absolute_percentage_error → 0.3273...
        var metrics = EvaluationMetrics.Regression([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]);

        metrics[MetricNames.Mae].ShouldBe(0.5, 1e-12);
        metrics[MetricNames.Rmse].ShouldBe(Math.Sqrt(0.375), 1e-12);
        metrics[MetricNames.R2].ShouldBe(0.9486081370449679, 1e-12);
        metrics[MetricNames.Mape].ShouldBe(0.3273809523809524, 1e-12);
    }

    [Fact]
    public void Reliability_bins_match_calibration_curve_documented_example()
    {
        // sklearn.calibration.calibration_curve docstring: y_true = [0, 0, 0, 0, 1, 1, 1, 1, 1],
        // y_pred = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0], n_bins=3 → prob_true [0, 0.5, 1], prob_pred [0.2, 0.525, 0.85].
        var calibration = EvaluationMetrics.Calibration([false, false, false, false, true, true, true, true, true], [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0], bins: 3);

        calibration.Bins.Select(bin => bin.FractionPositive!.Value).ShouldBe([0, 0.5, 1], 1e-12);
        calibration.Bins.Select(bin => bin.MeanProbability!.Value).ShouldBe([0.2, 0.525, 0.85], 1e-12);
        calibration.Bins.Select(bin => bin.Count).ShouldBe([3L, 2, 4]);

        // ECE = Σ n_b/N·|positives_b − mean_b| = (3·0.2 + 2·0.025 + 4·0.15) / 9 (Guo et al. 2017, eq. 3).
        calibration.ExpectedCalibrationError.ShouldBe((3 * 0.2 + 2 * 0.025 + 4 * 0.15) / 9, 1e-12);
    }

    [Fact]
    public void Empty_calibration_bins_have_no_means()
    {
        var calibration = EvaluationMetrics.Calibration([true, false], [0.95, 0.05], bins: 10);

        calibration.Bins[5].Count.ShouldBe(0);
        calibration.Bins[5].MeanProbability.ShouldBeNull();
        calibration.ExpectedCalibrationError.ShouldBe(0.05, 1e-12);
    }
}
