using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

/// <summary>
/// Performance metrics against scikit-learn's published values: the examples in the docstrings of
/// <c>sklearn.metrics</c> (scikit-learn 1.5 documentation), each quoted in the test, checked to 1e-9 where the
/// docstring gives the exact value and to its printed digits otherwise.
/// </summary>
public sealed class PerformanceMetricsTests
{
    [Fact]
    public void Accuracy_matches_accuracy_score_docstring()
    {
        // accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) -> 0.5
        ClassificationMetrics.Accuracy(["0", "1", "2", "3"], ["0", "2", "1", "3"]).ShouldBe(0.5, 1e-12);
    }

    [Fact]
    public void Macro_precision_recall_and_f1_match_the_docstrings()
    {
        // y_true = [0, 1, 2, 0, 1, 2]; y_pred = [0, 2, 1, 0, 0, 1]
        // precision_score(..., average='macro') -> 0.22..., recall_score(..., average='macro') -> 0.33..., f1_score(..., average='macro') -> 0.26...
        string[] truth = ["0", "1", "2", "0", "1", "2"];
        string[] predicted = ["0", "2", "1", "0", "0", "1"];
        var (precision, recall, f1) = ClassificationMetrics.PrecisionRecallF1(truth, predicted);
        precision.ShouldBe(2.0 / 9, 1e-12);
        recall.ShouldBe(1.0 / 3, 1e-12);
        f1.ShouldBe(0.8 / 3, 1e-12);

        // average=None -> precision array([0.66..., 0., 0.]), recall array([1., 0., 0.]), f1 array([0.8, 0., 0.]): class 0 as the positive label.
        var (p0, r0, f0) = ClassificationMetrics.PrecisionRecallF1(truth, predicted, "0");
        p0.ShouldBe(2.0 / 3, 1e-12);
        r0.ShouldBe(1.0, 1e-12);
        f0.ShouldBe(0.8, 1e-12);
        ClassificationMetrics.PrecisionRecallF1(truth, predicted, "1").ShouldBe((0.0, 0.0, 0.0), "zero_division=0: no correct prediction of class 1");
    }

    [Fact]
    public void Roc_auc_matches_the_roc_curve_and_auc_docstrings()
    {
        // y = [1, 1, 2, 2]; pred = [0.1, 0.4, 0.35, 0.8]; fpr, tpr, _ = roc_curve(y, pred, pos_label=2); auc(fpr, tpr) -> 0.75
        ClassificationMetrics.RocAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]).ShouldBe(0.75, 1e-12);
        // Ties count half (Mann-Whitney U): roc_auc_score([0, 1], [0.5, 0.5]) is 0.5.
        ClassificationMetrics.RocAuc([false, true], [0.5, 0.5]).ShouldBe(0.5, 1e-12);
        double.IsNaN(ClassificationMetrics.RocAuc([true, true], [0.2, 0.3])).ShouldBeTrue("one class only: undefined (scikit-learn raises)");
    }

    [Fact]
    public void Log_loss_matches_the_log_loss_docstring()
    {
        // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) -> 0.21616...  (classes sorted: ham = 0, spam = 1)
        ClassificationMetrics.LogLoss([1, 0, 0, 1], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]).ShouldBe(0.21616187468057912, 1e-12);
    }

    [Fact]
    public void Regression_errors_match_the_docstrings()
    {
        // y_true = [3, -0.5, 2, 7]; y_pred = [2.5, 0.0, 2, 8]
        double[] truth = [3, -0.5, 2, 7];
        double[] predicted = [2.5, 0.0, 2, 8];
        RegressionMetrics.MeanAbsoluteError(truth, predicted).ShouldBe(0.5, 1e-12); // mean_absolute_error -> 0.5
        RegressionMetrics.RootMeanSquaredError(truth, predicted).ShouldBe(0.6123724356957945, 1e-12); // root_mean_squared_error -> 0.612...
        RegressionMetrics.MeanAbsolutePercentageError(truth, predicted).ShouldBe(0.3273809523809524, 1e-12); // mean_absolute_percentage_error -> 0.3273...

        // A true 0 divides by machine epsilon: mean_absolute_percentage_error([1.0, 0.0, 2.4, 7.0], [1.2, 0.1, 2.4, 8.0]) -> 112589990684262.48
        RegressionMetrics.MeanAbsolutePercentageError([1.0, 0.0, 2.4, 7.0], [1.2, 0.1, 2.4, 8.0]).ShouldBe(112589990684262.48, 0.1);
    }
}
