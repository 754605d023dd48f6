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

    /// <summary>Mean negative log-likelihood of the true class; <paramref name="probabilities"/>[i][k] is row i's probability of class k, <paramref name="truth"/>[i] the index of its true class.</summary>
    public static double LogLoss(IReadOnlyList<int> truth, IReadOnlyList<IReadOnlyList<double>> probabilities)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (truth.Count != probabilities.Count || truth.Count == 0)
        {
            throw new ArgumentException("truth and probabilities must have the same, non-zero length.", nameof(probabilities));
        }

        const double epsilon = 2.220446049250313e-16; // numpy.finfo(float64).eps
        double total = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            var row = probabilities[i];
            double sum = 0;
            foreach (var p in row)
            {
                sum += Math.Clamp(p, epsilon, 1 - epsilon);
            }

            total -= Math.Log(Math.Clamp(row[truth[i]], epsilon, 1 - epsilon) / sum);
        }

        return total / truth.Count;
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

        var precision = predictedPositives == 0 ? 0 : (double)truePositives / predictedPositives;
        var recall = actualPositives == 0 ? 0 : (double)truePositives / actualPositives;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return (precision, recall, f1);
    }

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
