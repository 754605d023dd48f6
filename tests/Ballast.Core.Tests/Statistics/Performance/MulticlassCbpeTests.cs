using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

public sealed class MulticlassCbpeTests
{
    private static readonly IReadOnlyList<double>[] Probabilities =
    [
        [0.7, 0.2, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.3, 0.6],
        [0.4, 0.4, 0.2],
    ];

    /// <summary>
    /// By hand from NannyML's multiclass CBPE (<c>nannyml/performance_estimation/confidence_based/metrics.py</c>):
    /// <c>MulticlassClassificationAccuracy._estimate</c> is the mean probability of the predicted class,
    /// (0.7 + 0.5 + 0.6 + 0.4) / 4 = 0.55 (the last row ties classes 0 and 1 and predicts 0, as <c>argmax</c>);
    /// <c>_get_multiclass_confusion_matrix_estimate</c> puts Σ_{ŷ=j} p_i in row i, column j:
    /// [[1.1, 0.2, 0.1], [0.6, 0.5, 0.3], [0.3, 0.3, 0.6]]. One-vs-rest per class c (<c>estimate_precision</c> etc. on
    /// the class's probability, predicted positive where ŷ = c): TP = M[c][c], FP = column sum − TP, FN = row sum − TP,
    /// so class 0: TP 1.1, FP 0.9, FN 0.3, TN 1.7; class 1: 0.5, 0.5, 0.9, 2.1; class 2: 0.6, 0.4, 0.6, 2.4; and
    /// <c>MulticlassClassificationPrecision</c> etc. average the classes' values (<c>np.mean(ovr_estimates)</c>).
    /// </summary>
    [Fact]
    public void Accuracy_confusion_matrix_and_macro_one_vs_rest_metrics_follow_nannyml()
    {
        var predicted = MulticlassCbpe.PredictedClasses(Probabilities);
        predicted.ShouldBe([0, 1, 2, 0]);

        var estimate = MulticlassCbpe.Estimate(Probabilities, predicted);

        estimate.Count.ShouldBe(4);
        estimate.Accuracy.ShouldBe(2.2 / 4, 1e-12);
        double[][] matrix = [[1.1, 0.2, 0.1], [0.6, 0.5, 0.3], [0.3, 0.3, 0.6]];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                estimate.ConfusionMatrix[i][j].ShouldBe(matrix[i][j], 1e-12, $"[{i}][{j}]");
            }
        }

        estimate.Precision.ShouldBe(((1.1 / 2.0) + (0.5 / 1.0) + (0.6 / 1.0)) / 3, 1e-12);
        estimate.Recall.ShouldBe(((1.1 / 1.4) + (0.5 / 1.4) + (0.6 / 1.2)) / 3, 1e-12);
        estimate.Specificity.ShouldBe(((1.7 / 2.6) + (2.1 / 2.6) + (2.4 / 2.8)) / 3, 1e-12);
        estimate.F1.ShouldBe(((1.1 / 1.7) + (0.5 / 1.2) + (0.6 / 1.1)) / 3, 1e-12);
    }

    /// <summary>
    /// <c>MulticlassClassificationAUROC._estimate</c>: the mean over classes of <c>estimate_roc_auc</c> on the class's
    /// probabilities. Class 0 ranked 0.7, 0.4, 0.2, 0.1 accumulates (Σ(1 − p), Σp) = (0.3, 0.7), (0.9, 1.1), (1.7, 1.3),
    /// (2.6, 1.4): trapezoids 0.105 + 0.54 + 0.96 + 1.215 = 2.82 over 1.4 × 2.6; class 1 (0.5, 0.4, 0.3, 0.2): 0.125 +
    /// 0.42 + 0.735 + 1.04 = 2.32 over 1.4 × 2.6; class 2 (0.6, 0.3, 0.2, 0.1): 0.12 + 0.525 + 0.8 + 1.035 = 2.48 over
    /// 1.2 × 2.8.
    /// </summary>
    [Fact]
    public void Roc_auc_is_the_mean_of_the_classes_expected_curves()
    {
        var estimate = MulticlassCbpe.Estimate(Probabilities, MulticlassCbpe.PredictedClasses(Probabilities));

        estimate.RocAuc.ShouldBe(((2.82 / 3.64) + (2.32 / 3.64) + (2.48 / 3.36)) / 3, 1e-12);
    }

    /// <summary>With two classes and no ties, class 1's one-vs-rest problem is the binary one (ŷ = 1 where p ≥ 0.5 is the argmax), so accuracy and class 1's confusion matrix agree with binary CBPE.</summary>
    [Fact]
    public void Two_classes_agree_with_binary_cbpe_on_accuracy_and_the_confusion_matrix()
    {
        double[] p = [0.9, 0.8, 0.3, 0.1, 0.65];
        var rows = p.Select(q => (IReadOnlyList<double>)[1 - q, q]).ToList();

        var multiclass = MulticlassCbpe.Estimate(rows, MulticlassCbpe.PredictedClasses(rows));
        var binary = Cbpe.Estimate(p);

        multiclass.Accuracy.ShouldBe(binary.Accuracy, 1e-12);
        multiclass.ConfusionMatrix[1][1].ShouldBe(binary.ConfusionMatrix.TruePositives, 1e-12);
        multiclass.ConfusionMatrix[0][1].ShouldBe(binary.ConfusionMatrix.FalsePositives, 1e-12);
        multiclass.ConfusionMatrix[1][0].ShouldBe(binary.ConfusionMatrix.FalseNegatives, 1e-12);
        multiclass.ConfusionMatrix[0][0].ShouldBe(binary.ConfusionMatrix.TrueNegatives, 1e-12);
    }

    /// <summary>
    /// <c>_calibrate_predicted_probabilities</c> (<c>cbpe.py</c>): after each class's calibrator, rows are divided by
    /// their sum; a row summing to 0 becomes uniform.
    /// </summary>
    [Fact]
    public void Calibrated_rows_are_normalized_to_sum_to_one()
    {
        var calibrated = MulticlassCbpeCalibration.None(3).Calibrate([[0.2, 0.2, 0.1], [0, 0, 0]]);

        calibrated[0].ShouldBe([0.4, 0.4, 0.2], 1e-12);
        calibrated[1].ShouldBe([1 / 3.0, 1 / 3.0, 1 / 3.0], 1e-12);
    }

    /// <summary>
    /// Seeded simulation: 3 classes whose true probabilities are a softmax of random logits, and a model that reports
    /// the softmax of doubled logits (overconfident). Per class one-vs-rest, <c>_fit_calibrators</c> decides as binary
    /// CBPE's <c>needs_calibration</c>; after calibration on a reference, the estimated accuracy lands near the
    /// realized one (within 3 × √(0.25/4000) ≈ 0.024) and much nearer than the uncalibrated estimate.
    /// </summary>
    [Fact]
    public void Per_class_calibration_corrects_an_overconfident_model()
    {
        var random = new Random(20261206);
        (List<IReadOnlyList<double>> Scores, int[] Actual) Draw(int n)
        {
            var scores = new List<IReadOnlyList<double>>();
            var actual = new int[n];
            for (var i = 0; i < n; i++)
            {
                var logits = Enumerable.Range(0, 3).Select(_ => 2 * random.NextDouble()).ToArray();
                var truth = Softmax(logits);
                var u = random.NextDouble();
                actual[i] = u < truth[0] ? 0 : u < truth[0] + truth[1] ? 1 : 2;
                scores.Add(Softmax(logits.Select(l => 4 * l).ToArray()));
            }

            return (scores, actual);
        }

        var reference = Draw(4000);
        var analysis = Draw(4000);
        var calibration = MulticlassCbpe.FitCalibration(reference.Scores, reference.Actual, 3, new Random(42));
        calibration.Calibrated.ShouldBe(3);

        var predicted = MulticlassCbpe.PredictedClasses(analysis.Scores);
        var calibrated = calibration.Calibrate(analysis.Scores);
        calibrated.ShouldAllBe(row => Math.Abs(row.Sum() - 1) < 1e-12);
        var realized = predicted.Where((p, i) => p == analysis.Actual[i]).Count() / 4000.0;
        var estimated = MulticlassCbpe.Estimate(calibrated.Select(row => (IReadOnlyList<double>)row).ToList(), predicted, analysis.Scores).Accuracy;
        var raw = MulticlassCbpe.Estimate(analysis.Scores, predicted).Accuracy;

        estimated.ShouldBe(realized, 0.024);
        Math.Abs(raw - realized).ShouldBeGreaterThan(3 * Math.Abs(estimated - realized));
    }

    private static double[] Softmax(double[] logits)
    {
        var max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
