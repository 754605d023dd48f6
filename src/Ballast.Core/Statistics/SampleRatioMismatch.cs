namespace Ballast.Statistics;

/// <summary>The chi-square statistic and p-value of the split, and whether it counts as a mismatch.</summary>
public sealed record SrmResult(double ChiSquare, int DegreesOfFreedom, double PValue, bool Mismatch);

/// <summary>
/// Sample-ratio mismatch: were units assigned in the planned proportions? A chi-square goodness-of-fit test of the
/// observed counts per variant against the planned weights (GrowthBook's <c>check_srm</c>). A mismatch (p below
/// <see cref="StatisticsDefaults.SrmThreshold"/>) means assignment or logging is broken and the experiment's
/// results should not be trusted until it is explained.
/// </summary>
public static class SampleRatioMismatch
{
    /// <param name="counts">Units observed per variant.</param>
    /// <param name="weights">Planned traffic per variant, any scale; null means an equal split.</param>
    /// <param name="threshold">p-values below this are a mismatch.</param>
    public static SrmResult Check(IReadOnlyList<long> counts, IReadOnlyList<double>? weights = null, double threshold = StatisticsDefaults.SrmThreshold)
    {
        ArgumentNullException.ThrowIfNull(counts);
        StatisticsDefaults.CheckAlpha(threshold, "the SRM threshold");
        var observed = counts.Select(count => (double)count).ToArray();
        var expected = weights?.ToArray() ?? Enumerable.Repeat(1.0, observed.Length).ToArray();
        var result = ChiSquareTest.GoodnessOfFit(observed, expected);
        return new SrmResult(result.Statistic, result.DegreesOfFreedom, result.PValue, result.PValue < threshold);
    }
}
