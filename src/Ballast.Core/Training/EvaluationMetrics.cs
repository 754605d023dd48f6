using Ballast.Statistics.Performance;

namespace Ballast.Training;

/// <summary>
/// The metrics of <see cref="ModelEvaluator"/> as pure functions, defined as scikit-learn defines them (the tests check
/// its documented examples). A metric that is undefined on the rows given (AUC with one class) is NaN.
/// </summary>
public static class EvaluationMetrics
{
    /// <summary>Probabilities are clipped to [ε, 1-ε] before the logarithm, ε the double epsilon as scikit-learn ≥ 1.5 does.</summary>
    public const double LogLossEpsilon = ClassificationMetrics.Epsilon;

    /// <summary>Binary: auc, accuracy, precision, recall, f1, log_loss (positive class = true).</summary>
    public static Dictionary<string, double> Binary(IReadOnlyList<bool> actual, IReadOnlyList<double> probability, IReadOnlyList<bool> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(predicted);
        double tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            tp += actual[i] && predicted[i] ? 1 : 0;
            fn += actual[i] && !predicted[i] ? 1 : 0;
            fp += !actual[i] && predicted[i] ? 1 : 0;
            tn += !actual[i] && !predicted[i] ? 1 : 0;
        }

        var rates = ClassificationMetrics.FromConfusion(tp, fp, fn, tn);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Auc] = Auc(actual, probability),
            [MetricNames.Accuracy] = rates.Accuracy,
            [MetricNames.Precision] = rates.Precision,
            [MetricNames.Recall] = rates.Recall,
            [MetricNames.F1] = rates.F1,
            [MetricNames.LogLoss] = ClassificationMetrics.BinaryLogLoss(actual, probability),
        };
    }

    /// <summary>Area under the ROC curve as the Mann-Whitney statistic with mid-ranks for ties (scikit-learn's roc_auc_score).</summary>
    public static double Auc(IReadOnlyList<bool> actual, IReadOnlyList<double> score) => ClassificationMetrics.RocAuc(actual, score);

    /// <summary>
    /// Multiclass: accuracy (= accuracy_micro, the share right), accuracy_macro (the mean of per-class recall,
    /// scikit-learn's balanced_accuracy_score, ML.NET's MacroAccuracy) and log_loss of the true class's probability.
    /// </summary>
    public static Dictionary<string, double> Multiclass(IReadOnlyList<string> actual, IReadOnlyList<string> predicted, IReadOnlyList<double> probabilityOfActual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(probabilityOfActual);
        var perClass = new Dictionary<string, (double Right, double Count)>(StringComparer.Ordinal);
        for (var i = 0; i < actual.Count; i++)
        {
            var hit = actual[i] == predicted[i] ? 1 : 0;
            perClass[actual[i]] = perClass.TryGetValue(actual[i], out var counts) ? (counts.Right + hit, counts.Count + 1) : (hit, 1);
        }

        var micro = actual.Count == 0 ? double.NaN : ClassificationMetrics.Accuracy(actual, predicted);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Accuracy] = micro,
            [MetricNames.AccuracyMicro] = micro,
            [MetricNames.AccuracyMacro] = perClass.Count == 0 ? double.NaN : perClass.Values.Average(counts => counts.Right / counts.Count),
            [MetricNames.LogLoss] = ClassificationMetrics.LogLoss(probabilityOfActual),
        };
    }

    /// <summary>
    /// Regression: mae, rmse, r2 (1 - SS_res/SS_tot; NaN when the actual values are constant) and mape
    /// (mean of |y - ŷ| / max(|y|, ε), a fraction, not a percentage, as scikit-learn's mean_absolute_percentage_error).
    /// </summary>
    public static Dictionary<string, double> Regression(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        var n = actual.Count;
        var mean = n == 0 ? double.NaN : actual.Average();
        double squared = 0, total = 0;
        for (var i = 0; i < n; i++)
        {
            squared += (actual[i] - predicted[i]) * (actual[i] - predicted[i]);
            total += (actual[i] - mean) * (actual[i] - mean);
        }

        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Mae] = n == 0 ? double.NaN : RegressionMetrics.MeanAbsoluteError(actual, predicted),
            [MetricNames.Rmse] = n == 0 ? double.NaN : RegressionMetrics.RootMeanSquaredError(actual, predicted),
            [MetricNames.R2] = n == 0 || total == 0 ? double.NaN : 1 - squared / total,
            [MetricNames.Mape] = n == 0 ? double.NaN : RegressionMetrics.MeanAbsolutePercentageError(actual, predicted),
        };
    }

    /// <summary>
    /// Reliability diagram of a binary classifier: <paramref name="bins"/> equal-width bins of the predicted probability
    /// over [0, 1] (a probability on an inner edge in the lower bin, as scikit-learn's calibration_curve with strategy
    /// "uniform"; the binning is <see cref="Statistics.Performance.Calibration"/>'s), each with its count, mean probability and share of positives; and the expected calibration error,
    /// Σ (n_b / N)·|positives_b − mean probability_b| (Naeini et al. 2015; Guo et al. 2017).
    /// </summary>
    public static Calibration Calibration(IReadOnlyList<bool> actual, IReadOnlyList<double> probability, int bins = 10)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var counts = new long[bins];
        var sums = new double[bins];
        var positives = new long[bins];
        for (var i = 0; i < actual.Count; i++)
        {
            var bin = Statistics.Performance.Calibration.BinOf(probability[i], bins);
            counts[bin]++;
            sums[bin] += probability[i];
            positives[bin] += actual[i] ? 1 : 0;
        }

        var result = new List<CalibrationBin>(bins);
        double ece = 0;
        for (var bin = 0; bin < bins; bin++)
        {
            var meanProbability = counts[bin] == 0 ? (double?)null : sums[bin] / counts[bin];
            var fraction = counts[bin] == 0 ? (double?)null : (double)positives[bin] / counts[bin];
            if (counts[bin] > 0)
            {
                ece += (double)counts[bin] / actual.Count * Math.Abs(fraction!.Value - meanProbability!.Value);
            }

            result.Add(new CalibrationBin((double)bin / bins, (double)(bin + 1) / bins, counts[bin], meanProbability, fraction));
        }

        return new Calibration(result, actual.Count == 0 ? double.NaN : ece);
    }
}

/// <summary>One bin of a reliability diagram: [Lower, Upper), its row count, mean predicted probability and share of positives (null when empty).</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Count, double? MeanProbability, double? FractionPositive);

/// <summary>A binary classifier's reliability diagram and expected calibration error.</summary>
public sealed record Calibration(IReadOnlyList<CalibrationBin> Bins, double ExpectedCalibrationError);
