namespace Ballast.Statistics.Performance;

/// <summary>
/// One bin of a reliability diagram: the predictions with a probability in (<paramref name="Lower"/>,
/// <paramref name="Upper"/>] (the first bin also holds 0), how many there are, their mean predicted probability and
/// the share of them that were actually positive.
/// </summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanPredicted, double FractionPositive);

/// <summary>
/// Calibration of a binary classifier's probabilities against the labels: reliability bins
/// (<c>sklearn.calibration.calibration_curve</c> with <c>strategy="uniform"</c>), the expected calibration error over
/// those bins (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, eq. 3) and the Brier score
/// (<c>sklearn.metrics.brier_score_loss</c>).
/// </summary>
public static class Calibration
{
    /// <summary>Ten equal-width bins, the usual choice for ECE (Guo et al. 2017); scikit-learn's curve defaults to 5.</summary>
    public const int DefaultBins = 10;

    /// <summary>
    /// The non-empty bins of <paramref name="bins"/> equal-width bins over [0, 1]. A probability on an inner edge
    /// belongs to the lower bin, as <c>np.searchsorted(edges[1:-1], p)</c> in scikit-learn puts it.
    /// </summary>
    public static ReliabilityBin[] ReliabilityBins(ReadOnlySpan<bool> actual, ReadOnlySpan<double> probabilities, int bins = DefaultBins)
    {
        CheckProbabilities(actual, probabilities);
        if (bins < 1)
        {
            throw new ArgumentException($"the number of bins must be at least 1 (got {bins}).");
        }

        var counts = new int[bins];
        var predicted = new double[bins];
        var positives = new double[bins];
        for (var i = 0; i < probabilities.Length; i++)
        {
            var bin = BinOf(probabilities[i], bins);
            counts[bin]++;
            predicted[bin] += probabilities[i];
            positives[bin] += actual[i] ? 1 : 0;
        }

        var result = new List<ReliabilityBin>(bins);
        for (var b = 0; b < bins; b++)
        {
            if (counts[b] > 0)
            {
                result.Add(new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, counts[b], predicted[b] / counts[b], positives[b] / counts[b]));
            }
        }

        return [.. result];
    }

    /// <summary>ECE = Σ (n_b / n) |mean predicted_b − fraction positive_b| over the equal-width reliability bins.</summary>
    public static double ExpectedCalibrationError(ReadOnlySpan<bool> actual, ReadOnlySpan<double> probabilities, int bins = DefaultBins)
    {
        var reliability = ReliabilityBins(actual, probabilities, bins);
        double error = 0;
        foreach (var bin in reliability)
        {
            error += (double)bin.Count / probabilities.Length * Math.Abs(bin.MeanPredicted - bin.FractionPositive);
        }

        return error;
    }

    /// <summary>Brier score: the mean of (p − y)², 0 for perfect predictions, 0.25 for always saying 0.5.</summary>
    public static double BrierScore(ReadOnlySpan<bool> actual, ReadOnlySpan<double> probabilities)
    {
        CheckProbabilities(actual, probabilities);
        double sum = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var difference = probabilities[i] - (actual[i] ? 1 : 0);
            sum += difference * difference;
        }

        return sum / probabilities.Length;
    }

    /// <summary>Rejects empty input, labels and probabilities of different lengths, and probabilities outside [0, 1].</summary>
    internal static void CheckProbabilities(ReadOnlySpan<bool> actual, ReadOnlySpan<double> probabilities, string what = "probabilities")
    {
        if (actual.Length != probabilities.Length)
        {
            throw new ArgumentException($"there are {actual.Length} labels but {probabilities.Length} {what}; give one label per prediction.");
        }

        CheckProbabilities(probabilities, what);
    }

    internal static void CheckProbabilities(ReadOnlySpan<double> probabilities, string what = "probabilities")
    {
        if (probabilities.Length == 0)
        {
            throw new ArgumentException($"there are no {what}; give at least one prediction.");
        }

        for (var i = 0; i < probabilities.Length; i++)
        {
            if (!(probabilities[i] >= 0 && probabilities[i] <= 1))
            {
                throw new ArgumentException($"{what}[{i}] is {probabilities[i]}; a probability must be a number between 0 and 1.");
            }
        }
    }

    internal static int BinOf(double probability, int bins)
    {
        // Number of inner edges k/bins strictly below p: searchsorted(side="left") on the inner edges.
        var bin = (int)Math.Ceiling(probability * bins) - 1;
        return Math.Clamp(bin, 0, bins - 1);
    }
}
