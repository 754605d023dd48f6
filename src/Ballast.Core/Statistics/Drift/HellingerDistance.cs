namespace Ballast.Statistics.Drift;

/// <summary>
/// The Hellinger distance √(1 − Σ √(pᵢ qᵢ)) between two distributions given as counts over the same bins or
/// categories (the Bhattacharyya coefficient clipped to [0, 1]), as Evidently's <c>hellinger</c> stattest: per
/// category for categorical data; for numerical data over Sturges bins drawn across the distinct values of both
/// samples (<see cref="HistogramBins.Sturges"/> with n = the number of distinct values). Drift at 0.1 and above.
/// </summary>
public static class HellingerDistance
{
    public const double DefaultThreshold = 0.1;

    public static double FromCounts(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var p = DriftShares.Of(referenceCounts, "reference");
        var q = DriftShares.Of(currentCounts, "current");
        if (p.Length != q.Length)
        {
            throw new ArgumentException($"reference has {p.Length} bins but current has {q.Length}; give counts over the same bins.");
        }

        double coefficient = 0;
        for (var i = 0; i < p.Length; i++)
        {
            coefficient += Math.Sqrt(p[i] * q[i]);
        }

        return Math.Sqrt(1 - Math.Clamp(coefficient, 0, 1));
    }

    /// <summary>Over raw numbers: Sturges bins across the distinct values of both samples, then <see cref="FromCounts"/>.</summary>
    public static double Numerical(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var distinct = new HashSet<double>();
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var sample in new[] { reference.ToArray(), current.ToArray() })
        {
            foreach (var value in sample)
            {
                distinct.Add(value);
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
        }

        var bins = HistogramBins.Sturges(min, max, distinct.Count);
        return FromCounts(ToDouble(bins.Counts(reference)), ToDouble(bins.Counts(current)));
    }

    private static double[] ToDouble(long[] counts) => Array.ConvertAll(counts, count => (double)count);
}
