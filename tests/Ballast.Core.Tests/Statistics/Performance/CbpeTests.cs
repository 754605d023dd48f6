using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

public sealed class CbpeTests
{
    /// <summary>
    /// By hand from NannyML's formulas (<c>nannyml/performance_estimation/confidence_based/metrics.py</c>:
    /// <c>estimate_f1</c> tp = Σ_{ŷ=1} p, fp = Σ_{ŷ=1}(1 − p), fn = Σ_{ŷ=0} p, F1 = TP/(TP + ½(FP + FN));
    /// <c>estimate_precision</c>, <c>estimate_recall</c>, <c>estimate_accuracy</c>):
    /// p = [0.9, 0.8, 0.3, 0.1], ŷ = p ≥ 0.5 → TP 1.7, FP 0.3, FN 0.4, TN 1.6.
    /// </summary>
    [Fact]
    public void Confusion_matrix_metrics_follow_nannyml_formulas()
    {
        var estimate = Cbpe.Estimate([0.9, 0.8, 0.3, 0.1]);

        estimate.ConfusionMatrix.TruePositives.ShouldBe(1.7, 1e-12);
        estimate.ConfusionMatrix.FalsePositives.ShouldBe(0.3, 1e-12);
        estimate.ConfusionMatrix.FalseNegatives.ShouldBe(0.4, 1e-12);
        estimate.ConfusionMatrix.TrueNegatives.ShouldBe(1.6, 1e-12);
        estimate.Accuracy.ShouldBe(3.3 / 4, 1e-12);
        estimate.Precision.ShouldBe(1.7 / 2.0, 1e-12);
        estimate.Recall.ShouldBe(1.7 / 2.1, 1e-12);
        estimate.Specificity.ShouldBe(1.6 / 1.9, 1e-12);
        estimate.F1.ShouldBe(1.7 / 2.05, 1e-12);
    }

    /// <summary>
    /// By hand from NannyML's <c>estimate_roc_auc</c> (metrics.py: tps = cumsum(p) in descending score order,
    /// fps = rank − tps, tpr = tps/tps[-1], fpr = fps/fps[-1], auc(fpr, tpr)): with p = [0.9, 0.8, 0.3, 0.1] the
    /// expected curve passes (Σfp, Σtp) = (0, 0), (0.1, 0.9), (0.3, 1.7), (1.0, 2.0), (1.9, 2.1), and the trapezoids sum
    /// to 0.045 + 0.26 + 1.295 + 1.845 = 3.445 in units of 2.1 × 1.9.
    /// </summary>
    [Fact]
    public void Roc_auc_estimate_integrates_the_expected_roc_curve()
    {
        Cbpe.Estimate([0.9, 0.8, 0.3, 0.1]).RocAuc.ShouldBe(3.445 / (2.1 * 1.9), 1e-12);

        // Ranking comes from the scores, not the calibrated probabilities: reversing the ranking mirrors the curve.
        Cbpe.EstimateRocAuc([0.9, 0.8, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]).ShouldBe(1 - 3.445 / (2.1 * 1.9), 1e-12);

        // Probabilities of exactly 0 and 1 are labels: the estimate is the realized AUC.
        Cbpe.Estimate([1, 1, 0, 0]).RocAuc.ShouldBe(1);
        Cbpe.Estimate([1, 1, 1]).RocAuc.ShouldBe(double.NaN);
    }

    /// <summary>
    /// Seeded simulation: scores uniform on (0, 1), labels drawn with P(y = 1) = score, so the scores are calibrated.
    /// The estimates land within 4 standard errors of the realized metrics on 20,000 rows
    /// (accuracy SE ≈ √(0.75·0.25/20000) ≈ 0.003, AUC SE ≈ 0.004 by Hanley &amp; McNeil 1982).
    /// </summary>
    [Fact]
    public void Estimates_on_calibrated_probabilities_match_the_realized_metrics()
    {
        var random = new Random(20261204);
        const int n = 20_000;
        var p = new double[n];
        var actual = new bool[n];
        for (var i = 0; i < n; i++)
        {
            p[i] = random.NextDouble();
            actual[i] = random.NextDouble() < p[i];
        }

        var estimate = Cbpe.Estimate(p);
        var realized = Realized(actual, p);

        estimate.Accuracy.ShouldBe(realized.Accuracy, 0.012);
        estimate.Precision.ShouldBe(realized.Precision, 0.016);
        estimate.Recall.ShouldBe(realized.Recall, 0.016);
        estimate.F1.ShouldBe(realized.F1, 0.016);
        estimate.RocAuc.ShouldBe(ClassificationMetrics.RocAuc(actual, p), 0.016);
        estimate.Accuracy.ShouldBe(0.75, 0.012); // E[max(p, 1 − p)] for p ~ U(0, 1)
    }

    /// <summary>
    /// Scores that are not probabilities (P(y = 1) = s², reported as s) make CBPE wrong; fitted on a labelled
    /// reference, the isotonic calibration is chosen (NannyML's needs_calibration) and brings the estimates back to the
    /// realized metrics on a fresh analysis set.
    /// </summary>
    [Fact]
    public void Isotonic_calibration_on_the_reference_fixes_miscalibrated_scores()
    {
        var random = new Random(7);
        var (referenceScores, referenceActual) = Squared(random, 10_000);
        var (analysisScores, analysisActual) = Squared(random, 20_000);

        var calibration = Cbpe.FitCalibration(referenceScores, referenceActual, new Random(42));
        calibration.Calibrates.ShouldBeTrue();

        var predicted = analysisScores.Select(s => s >= 0.5).ToArray();
        var raw = Cbpe.Estimate(analysisScores, predicted);
        var calibrated = Cbpe.Estimate(calibration.Calibrate(analysisScores), predicted, analysisScores);
        var realized = Realized(analysisActual, analysisScores);

        Math.Abs(raw.Precision - realized.Precision).ShouldBeGreaterThan(0.1); // 0.75 = E[s | s ≥ ½] against 7/12 = E[s² | s ≥ ½]
        calibrated.Accuracy.ShouldBe(realized.Accuracy, 0.015);
        calibrated.Precision.ShouldBe(realized.Precision, 0.02);
        calibrated.Recall.ShouldBe(realized.Recall, 0.02);
        calibrated.RocAuc.ShouldBe(ClassificationMetrics.RocAuc(analysisActual, analysisScores), 0.02);
    }

    /// <summary>NannyML: a perfectly separating reference (AUC &gt; 0.999) or a single class never needs calibrating.</summary>
    [Fact]
    public void Separable_or_single_class_references_are_not_calibrated()
    {
        Cbpe.FitCalibration([0.1, 0.2, 0.8, 0.9], Labels.Of(0, 0, 1, 1), new Random(1)).Calibrates.ShouldBeFalse();
        Cbpe.FitCalibration([0.1, 0.2, 0.8, 0.9], Labels.Of(1, 1, 1, 1), new Random(1)).Calibrates.ShouldBeFalse();
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_reason()
    {
        Should.Throw<ArgumentException>(() => Cbpe.Estimate([0.5, 0.2], Labels.Of(1)))
            .Message.ShouldBe("there are 1 labels but 2 calibrated probabilities; give one label per prediction.");
        Should.Throw<ArgumentException>(() => Cbpe.Estimate([0.5], threshold: 2))
            .Message.ShouldBe("the threshold must be between 0 and 1 (got 2).");
        Should.Throw<ArgumentException>(() => Cbpe.EstimateRocAuc([0.5, 0.2], [0.1]))
            .Message.ShouldBe("there are 2 probabilities but 1 scores; give one score per prediction.");
        Should.Throw<ArgumentException>(() => Cbpe.Estimate([0.5, -0.1]))
            .Message.ShouldBe("calibrated probabilities[1] is -0.1; a probability must be a number between 0 and 1.");
    }

    private static (double[] Scores, bool[] Actual) Squared(Random random, int n)
    {
        var scores = new double[n];
        var actual = new bool[n];
        for (var i = 0; i < n; i++)
        {
            scores[i] = random.NextDouble();
            actual[i] = random.NextDouble() < scores[i] * scores[i];
        }

        return (scores, actual);
    }

    private static (double Accuracy, double Precision, double Recall, double F1) Realized(bool[] actual, double[] scores)
    {
        double tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var predicted = scores[i] >= 0.5;
            if (predicted && actual[i]) tp++;
            else if (predicted) fp++;
            else if (actual[i]) fn++;
            else tn++;
        }

        return ((tp + tn) / actual.Length, tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn));
    }
}
