namespace Ballast.Statistics.Performance;

/// <summary>
/// Classification quality from true and predicted labels (and, for ROC AUC and log loss, predicted probabilities),
/// with scikit-learn's definitions: <c>accuracy_score</c>, <c>precision_score</c>/<c>recall_score</c>/<c>f1_score</c>
/// (<c>average="binary"</c> with a positive label, or <c>"macro"</c> over the labels seen in either list, a label with
/// no predictions or no true rows counting as 0, as <c>zero_division=0</c>), <c>roc_auc_score</c> (binary, ties
/// counted half, as the Mann–Whitney U) and <c>log_loss</c> (probabilities clipped to [ε, 1 − ε], ε the double's
/// machine epsilon, and rows renormalized, as scikit-learn ≥ 1.3).
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>numpy.finfo(float64).eps: log loss clips probabilities to [ε, 1 − ε], as scikit-learn ≥ 1.5.</summary>
    public const double Epsilon = 2.220446049250313e-16;

    public static double Accuracy(IReadOnlyList<string> truth, IReadOnlyList<string> predicted)
    {
        Check(truth, predicted);
        var correct = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            correct += truth[i] == predicted[i] ? 1 : 0;
        }

        return (double)correct / truth.Count;
    }

    /// <summary>Precision, recall and F1 of <paramref name="positive"/> (binary), or their macro averages when it is null.</summary>
    public static (double Precision, double Recall, double F1) PrecisionRecallF1(IReadOnlyList<string> truth, IReadOnlyList<string> predicted, string? positive = null)
    {
        Check(truth, predicted);
        if (positive is not null)
        {
            return Of(truth, predicted, positive);
        }

        var labels = truth.Concat(predicted).Distinct(StringComparer.Ordinal).ToList();
        double precision = 0, recall = 0, f1 = 0;
        foreach (var label in labels)
        {
            var (p, r, f) = Of(truth, predicted, label);
            precision += p;
            recall += r;
            f1 += f;
        }

        return (precision / labels.Count, recall / labels.Count, f1 / labels.Count);
    }

    /// <summary>Area under the ROC curve of scores for the positive class; NaN when only one class is present (scikit-learn raises).</summary>
    public static double RocAuc(IReadOnlyList<bool> positive, IReadOnlyList<double> score)
    {
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(score);
        if (positive.Count != score.Count)
        {
            throw new ArgumentException("truth and scores differ in length.", nameof(score));
        }

        var order = Enumerable.Range(0, score.Count).OrderBy(i => score[i]).ToArray();
        // Mid-ranks of tied scores; AUC = (sum of positive ranks - n+(n+ + 1)/2) / (n+ n-).
        double rankSum = 0;
        long positives = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
            {
                end++;
            }

            var rank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
            {
                if (positive[order[k]])
                {
                    rankSum += rank;
                    positives++;
                }
            }

            start = end + 1;
        }

        var negatives = positive.Count - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// Accuracy, precision, recall, specificity and F1 of a binary confusion matrix (counts, or expected counts as CBPE
    /// has them); a ratio over 0 is 0 (<c>zero_division=0</c>); accuracy is NaN for an empty matrix.
    /// </summary>
    public static ConfusionRates FromConfusion(double truePositives, double falsePositives, double falseNegatives, double trueNegatives)
    {
        var total = truePositives + falsePositives + falseNegatives + trueNegatives;
        var precision = Ratio(truePositives, truePositives + falsePositives);
        var recall = Ratio(truePositives, truePositives + falseNegatives);
        return new ConfusionRates(
            total > 0 ? (truePositives + trueNegatives) / total : double.NaN,
            precision,
            recall,
            Ratio(trueNegatives, trueNegatives + falsePositives),
            Ratio(truePositives, truePositives + (0.5 * (falsePositives + falseNegatives))));
    }

    /// <summary>Binary log loss: the mean of −ln p for positives and −ln (1 − p) for negatives, p clipped to [ε, 1 − ε].</summary>
    public static double BinaryLogLoss(IReadOnlyList<bool> actual, IReadOnlyList<double> probability)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        var ofTruth = new double[actual.Count];
        for (var i = 0; i < ofTruth.Length; i++)
        {
            ofTruth[i] = actual[i] ? probability[i] : 1 - probability[i];
        }

        return LogLoss(ofTruth);
    }

    /// <summary>Mean −ln p over each row's probability of its true class, p clipped to [ε, 1 − ε] (no renormalization); NaN for no rows.</summary>
    public static double LogLoss(IReadOnlyList<double> probabilityOfTruth)
    {
        ArgumentNullException.ThrowIfNull(probabilityOfTruth);
        return MeanNegativeLog(probabilityOfTruth.Select(p => Math.Clamp(p, Epsilon, 1 - Epsilon)).ToArray());
    }

    private static double MeanNegativeLog(double[] probabilities)
    {
        double total = 0;
        foreach (var p in probabilities)
        {
            total -= Math.Log(p);
        }

        return probabilities.Length == 0 ? double.NaN : total / probabilities.Length;
    }

    /// <summary>Mean negative log-likelihood of the true class; <paramref name="probabilities"/>[i][k] is row i's probability of class k, <paramref name="truth"/>[i] the index of its true class.</summary>
    public static double LogLoss(IReadOnlyList<int> truth, IReadOnlyList<IReadOnlyList<double>> probabilities)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (truth.Count != probabilities.Count || truth.Count == 0)
        {
            throw new ArgumentException("truth and probabilities must have the same, non-zero length.", nameof(probabilities));
        }

        var ofTruth = new double[truth.Count];
        for (var i = 0; i < truth.Count; i++)
        {
            var row = probabilities[i];
            double sum = 0;
            foreach (var p in row)
            {
                sum += Math.Clamp(p, Epsilon, 1 - Epsilon);
            }

            ofTruth[i] = Math.Clamp(row[truth[i]], Epsilon, 1 - Epsilon) / sum;
        }

        return MeanNegativeLog(ofTruth);
    }

    private static (double Precision, double Recall, double F1) Of(IReadOnlyList<string> truth, IReadOnlyList<string> predicted, string label)
    {
        long truePositives = 0, predictedPositives = 0, actualPositives = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            var isTrue = truth[i] == label;
            var isPredicted = predicted[i] == label;
            truePositives += isTrue && isPredicted ? 1 : 0;
            predictedPositives += isPredicted ? 1 : 0;
            actualPositives += isTrue ? 1 : 0;
        }

        var rates = FromConfusion(truePositives, predictedPositives - truePositives, actualPositives - truePositives, truth.Count - predictedPositives - actualPositives + truePositives);
        return (rates.Precision, rates.Recall, rates.F1);
    }

    private static double Ratio(double numerator, double denominator) => denominator > 0 ? numerator / denominator : 0;

    private static void Check(IReadOnlyList<string> truth, IReadOnlyList<string> predicted)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        if (truth.Count != predicted.Count || truth.Count == 0)
        {
            throw new ArgumentException("truth and predictions must have the same, non-zero length.", nameof(predicted));
        }
    }
}
