namespace Ballast.Statistics.Drift;

/// <summary>Counts over bins or categories turned into shares, as the binned drift methods need them.</summary>
internal static class DriftShares
{
    public static double[] Of(ReadOnlySpan<double> counts, string side)
    {
        if (counts.Length == 0)
        {
            throw new ArgumentException($"{side} has no bins; give at least one count.");
        }

        double total = 0;
        foreach (var count in counts)
        {
            if (!(count >= 0) || !double.IsFinite(count))
            {
                throw new ArgumentException($"{side} counts must be finite and 0 or more (got {count}).");
            }

            total += count;
        }

        if (total == 0)
        {
            throw new ArgumentException($"every {side} count is 0; there is nothing to compare.");
        }

        var shares = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            shares[i] = counts[i] / total;
        }

        return shares;
    }

    /// <summary>Evidently's fill for empty bins: 0.0001, or a millionth of the smallest non-empty share if that is ≤ 0.0001.</summary>
    public static double[] FillEmpty(double[] shares)
    {
        var smallest = double.PositiveInfinity;
        foreach (var share in shares)
        {
            if (share != 0 && share < smallest)
            {
                smallest = share;
            }
        }

        var fill = smallest <= PopulationStabilityIndex.EmptyBinShare ? smallest / 1e6 : PopulationStabilityIndex.EmptyBinShare;
        for (var i = 0; i < shares.Length; i++)
        {
            if (shares[i] == 0)
            {
                shares[i] = fill;
            }
        }

        return shares;
    }
}
