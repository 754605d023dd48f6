namespace Ballast.Statistics.Performance;

/// <summary>
/// Regression error with scikit-learn's definitions: <c>mean_absolute_error</c>, <c>root_mean_squared_error</c> and
/// <c>mean_absolute_percentage_error</c> (a fraction, not a percentage; |y| floored at the double's machine epsilon,
/// so a true value of 0 gives a huge, finite error rather than a division by zero).
/// </summary>
public static class RegressionMetrics
{
    private const double Epsilon = ClassificationMetrics.Epsilon;

    public static double MeanAbsoluteError(IReadOnlyList<double> truth, IReadOnlyList<double> predicted) =>
        Mean(truth, predicted, (y, p) => Math.Abs(y - p));

    public static double RootMeanSquaredError(IReadOnlyList<double> truth, IReadOnlyList<double> predicted) =>
        Math.Sqrt(Mean(truth, predicted, (y, p) => (y - p) * (y - p)));

    public static double MeanAbsolutePercentageError(IReadOnlyList<double> truth, IReadOnlyList<double> predicted) =>
        Mean(truth, predicted, (y, p) => Math.Abs(y - p) / Math.Max(Math.Abs(y), Epsilon));

    private static double Mean(IReadOnlyList<double> truth, IReadOnlyList<double> predicted, Func<double, double, double> error)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        if (truth.Count != predicted.Count || truth.Count == 0)
        {
            throw new ArgumentException("truth and predictions must have the same, non-zero length.", nameof(predicted));
        }

        double total = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            total += error(truth[i], predicted[i]);
        }

        return total / truth.Count;
    }
}
