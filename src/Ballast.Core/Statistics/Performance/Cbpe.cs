namespace Ballast.Statistics.Performance;

/// <summary>Expected confusion-matrix counts: sums of probabilities, so not whole numbers.</summary>
public sealed record EstimatedConfusionMatrix(double TruePositives, double FalsePositives, double FalseNegatives, double TrueNegatives);

/// <summary>
/// The performance CBPE expects a binary classifier to have on a set of predictions whose labels are not known yet.
/// A ratio whose denominator is 0 (no predicted positives for precision, no expected positives for recall) is 0, as
/// NannyML returns for F1; <see cref="RocAuc"/> is NaN when every probability is 0 or every one is 1.
/// </summary>
public sealed record CbpeEstimate(
    int Count,
    double Accuracy,
    double Precision,
    double Recall,
    double Specificity,
    double F1,
    double RocAuc,
    EstimatedConfusionMatrix ConfusionMatrix);

/// <summary>
/// Turns a model's scores into probabilities for CBPE: isotonic regression fitted on the reference scores and labels
/// when that lowers the expected calibration error, otherwise the scores unchanged (<see cref="Cbpe.FitCalibration"/>).
/// </summary>
public sealed class CbpeCalibration
{
    private readonly IsotonicRegression? _isotonic;

    internal CbpeCalibration(IsotonicRegression? isotonic)
    {
        _isotonic = isotonic;
    }

    /// <summary>True when the reference showed the scores needed calibrating and isotonic regression is applied.</summary>
    public bool Calibrates => _isotonic is not null;

    public double[] Calibrate(ReadOnlySpan<double> scores)
    {
        Calibration.CheckProbabilities(scores, "scores");
        return _isotonic is null ? scores.ToArray() : _isotonic.Predict(scores);
    }
}

/// <summary>
/// NannyML's Confidence-Based Performance Estimation for binary classifiers (docs/how_it_works/performance_estimation.rst
/// and <c>nannyml/performance_estimation/confidence_based/metrics.py</c>, NannyML 0.10+). With calibrated probabilities
/// p and the predicted labels ŷ, each prediction contributes its probability of being each confusion-matrix cell:
/// TP = Σ_{ŷ=1} p, FP = Σ_{ŷ=1} (1 − p), FN = Σ_{ŷ=0} p, TN = Σ_{ŷ=0} (1 − p) (<c>estimate_f1</c>,
/// <c>estimate_precision</c>, …), and accuracy, precision, recall, specificity and F1 follow from those counts.
/// The ROC AUC estimate (<c>estimate_roc_auc</c>) ranks by the model's score, accumulates p as expected true positives
/// and 1 − p as expected false positives, and integrates the expected ROC curve with the trapezoid rule.
/// The estimate is unbiased only when the probabilities are calibrated and the relation between score and label has
/// not changed (covariate shift only).
/// </summary>
public static class Cbpe
{
    /// <summary>The decision threshold when predicted labels come from a probability: p ≥ 0.5 is positive.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>NannyML's <c>needs_calibration</c>: 10 stratified shuffle splits with 10 % held out …</summary>
    public const int CalibrationSplits = 10;

    public const double CalibrationTestShare = 0.1;

    /// <summary>… and ECE over 10 bins of equal count.</summary>
    public const int CalibrationBins = 10;

    /// <summary>Estimates with predicted labels p ≥ <paramref name="threshold"/>, ranking by the probabilities themselves.</summary>
    public static CbpeEstimate Estimate(ReadOnlySpan<double> probabilities, double threshold = DefaultThreshold)
    {
        if (!(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentException($"the threshold must be between 0 and 1 (got {threshold}).");
        }

        var predicted = new bool[probabilities.Length];
        for (var i = 0; i < probabilities.Length; i++)
        {
            predicted[i] = probabilities[i] >= threshold;
        }

        return Estimate(probabilities, predicted, probabilities);
    }

    /// <summary>
    /// Estimates from calibrated probabilities and the labels the model predicted. <paramref name="scores"/> are the
    /// model's raw scores used to rank for ROC AUC (NannyML ranks by the uncalibrated score); by default the
    /// probabilities themselves.
    /// </summary>
    public static CbpeEstimate Estimate(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> predicted, ReadOnlySpan<double> scores = default)
    {
        Calibration.CheckProbabilities(predicted, probabilities, "calibrated probabilities");
        double tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            if (predicted[i])
            {
                tp += p;
                fp += 1 - p;
            }
            else
            {
                fn += p;
                tn += 1 - p;
            }
        }

        var rates = ClassificationMetrics.FromConfusion(tp, fp, fn, tn);
        return new CbpeEstimate(
            probabilities.Length,
            rates.Accuracy,
            rates.Precision,
            rates.Recall,
            rates.Specificity,
            rates.F1,
            EstimateRocAuc(probabilities, scores.IsEmpty ? probabilities : scores),
            new EstimatedConfusionMatrix(tp, fp, fn, tn));
    }

    /// <summary>
    /// The expected ROC AUC. Rows are ranked by <paramref name="scores"/> (highest first); at each distinct score the
    /// expected true positives are Σ p and false positives Σ (1 − p) of the rows ranked so far; tied scores form one
    /// step, as scikit-learn's <c>roc_curve</c> drops repeated thresholds. NaN when Σ p or Σ (1 − p) is 0.
    /// </summary>
    public static double EstimateRocAuc(ReadOnlySpan<double> probabilities, ReadOnlySpan<double> scores)
    {
        Calibration.CheckProbabilities(probabilities, "calibrated probabilities");
        if (scores.Length != probabilities.Length)
        {
            throw new ArgumentException($"there are {probabilities.Length} probabilities but {scores.Length} scores; give one score per prediction.");
        }

        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++)
        {
            if (!double.IsFinite(scores[i]))
            {
                throw new ArgumentException($"scores[{i}] is {scores[i]}; scores must be finite numbers.");
            }

            order[i] = i;
        }

        var keys = scores.ToArray();
        Array.Sort(keys, order);
        Array.Reverse(keys);
        Array.Reverse(order);

        double totalPositive = 0;
        foreach (var p in probabilities)
        {
            totalPositive += p;
        }

        var totalNegative = probabilities.Length - totalPositive;
        if (totalPositive <= 0 || totalNegative <= 0)
        {
            return double.NaN;
        }

        double area = 0, tps = 0, fps = 0, previousTps = 0, previousFps = 0;
        for (var i = 0; i < order.Length; i++)
        {
            tps += probabilities[order[i]];
            fps += 1 - probabilities[order[i]];
            if (i + 1 < order.Length && keys[i + 1] == keys[i])
            {
                continue;
            }

            area += (fps - previousFps) * (tps + previousTps) / 2;
            previousTps = tps;
            previousFps = fps;
        }

        return area / (totalPositive * totalNegative);
    }

    /// <summary>
    /// Decides on the reference (scores with their known labels) whether the scores need calibrating, as NannyML's
    /// <c>needs_calibration</c> does: not when there is one class only or the ROC AUC is above 0.999; otherwise
    /// isotonic regression is fitted on 90 % and applied to 10 % in <see cref="CalibrationSplits"/> stratified random
    /// splits, and calibration is used when the pooled held-out ECE (equal-count bins) is lower after than before.
    /// The returned calibration is then fitted on the whole reference.
    /// </summary>
    public static CbpeCalibration FitCalibration(ReadOnlySpan<double> referenceScores, ReadOnlySpan<bool> referenceActual, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Calibration.CheckProbabilities(referenceActual, referenceScores, "reference scores");
        if (!NeedsCalibration(referenceScores, referenceActual, random))
        {
            return new CbpeCalibration(null);
        }

        return new CbpeCalibration(FitIsotonic(referenceScores, referenceActual, yMin: 0, yMax: 1));
    }

    internal static bool NeedsCalibration(ReadOnlySpan<double> scores, ReadOnlySpan<bool> actual, Random random)
    {
        var positives = new List<int>();
        var negatives = new List<int>();
        for (var i = 0; i < actual.Length; i++)
        {
            (actual[i] ? positives : negatives).Add(i);
        }

        if (positives.Count == 0 || negatives.Count == 0 || ClassificationMetrics.RocAuc(actual.ToArray(), scores.ToArray()) > 0.999)
        {
            return false;
        }

        var heldActual = new List<bool>();
        var heldRaw = new List<double>();
        var heldCalibrated = new List<double>();
        for (var split = 0; split < CalibrationSplits; split++)
        {
            var test = new HashSet<int>();
            foreach (var group in new[] { positives, negatives })
            {
                var shuffled = group.ToArray();
                random.Shuffle(shuffled);
                var take = Math.Max(1, (int)Math.Round(CalibrationTestShare * shuffled.Length));
                test.UnionWith(shuffled.Take(Math.Min(take, shuffled.Length - 1)));
            }

            var trainScores = new List<double>();
            var trainActual = new List<bool>();
            for (var i = 0; i < actual.Length; i++)
            {
                if (!test.Contains(i))
                {
                    trainScores.Add(scores[i]);
                    trainActual.Add(actual[i]);
                }
            }

            var isotonic = FitIsotonic([.. trainScores], [.. trainActual], yMin: double.NegativeInfinity, yMax: double.PositiveInfinity);
            foreach (var i in test.Order())
            {
                heldActual.Add(actual[i]);
                heldRaw.Add(scores[i]);
                heldCalibrated.Add(isotonic.Predict(scores[i]));
            }
        }

        return EqualCountEce(heldActual, heldRaw) > EqualCountEce(heldActual, heldCalibrated);
    }

    /// <summary>NannyML's <c>_calculate_expected_calibration_error</c>: sort by probability, bins of equal count.</summary>
    internal static double EqualCountEce(IReadOnlyList<bool> actual, IReadOnlyList<double> probabilities)
    {
        var n = probabilities.Count;
        var bins = CalibrationBins;
        if (n <= 2 * bins)
        {
            bins = n / 2;
            if (bins < 2)
            {
                throw new ArgumentException($"cannot split {n} held-out predictions into 2 calibration bins; the reference is too small.");
            }
        }

        var order = Enumerable.Range(0, n).OrderBy(i => probabilities[i]).ToArray();
        var width = n / bins;
        double error = 0;
        for (var b = 0; b < bins; b++)
        {
            var start = b * width;
            var end = b == bins - 1 ? n : start + width;
            double predicted = 0, positive = 0;
            for (var k = start; k < end; k++)
            {
                predicted += probabilities[order[k]];
                positive += actual[order[k]] ? 1 : 0;
            }

            var count = end - start;
            error += (double)count / n * Math.Abs(predicted / count - positive / count);
        }

        return error;
    }

    private static IsotonicRegression FitIsotonic(ReadOnlySpan<double> scores, ReadOnlySpan<bool> actual, double yMin, double yMax)
    {
        var labels = new double[actual.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = actual[i] ? 1 : 0;
        }

        return IsotonicRegression.Fit(scores, labels, default, yMin, yMax);
    }
}
