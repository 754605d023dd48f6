namespace Ballast.Statistics;

/// <summary>
/// One group of an experiment reduced to what every test here needs: its count, mean and variance (the unbiased,
/// n − 1 sample variance, except for proportions, where it is p(1 − p) as GrowthBook's <c>ProportionStatistic</c>).
/// Build it from raw values, from the sums a warehouse query returns, or from a success count.
/// </summary>
public readonly record struct SampleSummary(long Count, double Mean, double Variance)
{
    /// <summary>Count, mean and n − 1 variance of raw values, in one pass (Welford), so large samples lose no precision.</summary>
    public static SampleSummary FromValues(ReadOnlySpan<double> values)
    {
        double mean = 0, squares = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            if (!double.IsFinite(value))
            {
                throw new ArgumentException($"value {i + 1} is {value}; every value must be a finite number.");
            }

            var delta = value - mean;
            mean += delta / (i + 1);
            squares += delta * (value - mean);
        }

        return new SampleSummary(values.Length, mean, values.Length > 1 ? squares / (values.Length - 1) : 0);
    }

    /// <summary>From n, Σx and Σx² (what <c>COUNT</c>, <c>SUM</c> and <c>SUM(x*x)</c> return); variance is 0 when n ≤ 1.</summary>
    public static SampleSummary FromSums(long count, double sum, double sumOfSquares)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return new SampleSummary(0, 0, 0);
        }

        var variance = count > 1 ? Math.Max(0, (sumOfSquares - sum * sum / count) / (count - 1)) : 0;
        return new SampleSummary(count, sum / count, variance);
    }

    /// <summary>A conversion rate: mean p = successes / trials and variance p(1 − p) (Bernoulli, as GrowthBook).</summary>
    public static SampleSummary FromProportion(long successes, long trials)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, successes);
        if (trials == 0)
        {
            return new SampleSummary(0, 0, 0);
        }

        var rate = (double)successes / trials;
        return new SampleSummary(trials, rate, rate * (1 - rate));
    }

    /// <summary>The squared standard error of the mean, variance / n.</summary>
    public double MeanVariance => Count > 0 ? Variance / Count : double.NaN;
}
