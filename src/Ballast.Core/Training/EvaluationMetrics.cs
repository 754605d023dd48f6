namespace Ballast.Training;

/// <summary>
/// The metrics of <see cref="ModelEvaluator"/> as pure functions, defined as scikit-learn defines them (the tests check
/// its documented examples). A metric that is undefined on the rows given (AUC with one class) is NaN.
/// </summary>
public static class EvaluationMetrics
{
    /// <summary>Probabilities are clipped to [ε, 1-ε] before the logarithm, ε the double epsilon as scikit-learn ≥ 1.5 does.</summary>
    public const double LogLossEpsilon = 2.220446049250313e-16;

    /// <summary>Binary: auc, accuracy, precision, recall, f1, log_loss (positive class = true).</summary>
    public static Dictionary<string, double> Binary(IReadOnlyList<bool> actual, IReadOnlyList<double> probability, IReadOnlyList<bool> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(predicted);
        double tp = 0, fp = 0, fn = 0, tn = 0, logLoss = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            if (actual[i])
            {
                if (predicted[i]) { tp++; } else { fn++; }
            }
            else if (predicted[i])
            {
                fp++;
            }
            else
            {
                tn++;
            }

            var p = Math.Clamp(probability[i], LogLossEpsilon, 1 - LogLossEpsilon);
            logLoss -= actual[i] ? Math.Log(p) : Math.Log(1 - p);
        }

        var n = actual.Count;
        var precision = tp + fp == 0 ? 0 : tp / (tp + fp);
        var recall = tp + fn == 0 ? 0 : tp / (tp + fn);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Auc] = Auc(actual, probability),
            [MetricNames.Accuracy] = n == 0 ? double.NaN : (tp + tn) / n,
            [MetricNames.Precision] = precision,
            [MetricNames.Recall] = recall,
            [MetricNames.F1] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            [MetricNames.LogLoss] = n == 0 ? double.NaN : logLoss / n,
        };
    }

    /// <summary>Area under the ROC curve as the Mann-Whitney statistic with mid-ranks for ties (scikit-learn's roc_auc_score).</summary>
    public static double Auc(IReadOnlyList<bool> actual, IReadOnlyList<double> score)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(score);
        var order = Enumerable.Range(0, actual.Count).OrderBy(i => score[i]).ToArray();
        double positives = 0, rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
            {
                end++;
            }

            var rank = (start + end) / 2.0 + 1;
            for (var i = start; i <= end; i++)
            {
                if (actual[order[i]])
                {
                    positives++;
                    rankSum += rank;
                }
            }

            start = end + 1;
        }

        var negatives = actual.Count - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

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
        double right = 0, logLoss = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            var hit = actual[i] == predicted[i] ? 1 : 0;
            right += hit;
            perClass[actual[i]] = perClass.TryGetValue(actual[i], out var counts) ? (counts.Right + hit, counts.Count + 1) : (hit, 1);
            logLoss -= Math.Log(Math.Clamp(probabilityOfActual[i], LogLossEpsilon, 1 - LogLossEpsilon));
        }

        var n = actual.Count;
        var micro = n == 0 ? double.NaN : right / n;
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Accuracy] = micro,
            [MetricNames.AccuracyMicro] = micro,
            [MetricNames.AccuracyMacro] = perClass.Count == 0 ? double.NaN : perClass.Values.Average(counts => counts.Right / counts.Count),
            [MetricNames.LogLoss] = n == 0 ? double.NaN : logLoss / n,
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
        double absolute = 0, squared = 0, total = 0, percentage = 0;
        for (var i = 0; i < n; i++)
        {
            var error = actual[i] - predicted[i];
            absolute += Math.Abs(error);
            squared += error * error;
            total += (actual[i] - mean) * (actual[i] - mean);
            percentage += Math.Abs(error) / Math.Max(Math.Abs(actual[i]), LogLossEpsilon);
        }

        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Mae] = n == 0 ? double.NaN : absolute / n,
            [MetricNames.Rmse] = n == 0 ? double.NaN : Math.Sqrt(squared / n),
            [MetricNames.R2] = n == 0 || total == 0 ? double.NaN : 1 - squared / total,
            [MetricNames.Mape] = n == 0 ? double.NaN : percentage / n,
        };
    }

    /// <summary>
    /// Reliability diagram of a binary classifier: <paramref name="bins"/> equal-width bins of the predicted probability
    /// over [0, 1] (a probability of exactly 1 in the last bin, as scikit-learn's calibration_curve with strategy
    /// "uniform"), each with its count, mean probability and share of positives; and the expected calibration error,
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
            var bin = Math.Clamp((int)Math.Floor(probability[i] * bins), 0, bins - 1);
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
