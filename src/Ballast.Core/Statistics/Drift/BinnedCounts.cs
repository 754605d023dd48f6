namespace Ballast.Statistics.Drift;

/// <summary>Counts of both samples over the same bins.</summary>
public sealed record BinnedCounts(HistogramBins Bins, double[] Reference, double[] Current)
{
    /// <summary>Counts sorted samples over <paramref name="bins"/> by binary search: O(bins · log n).</summary>
    public static BinnedCounts OfSorted(HistogramBins bins, ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        ArgumentNullException.ThrowIfNull(bins);
        return new BinnedCounts(bins, CountSorted(bins, reference), CountSorted(bins, current));
    }

    private static double[] CountSorted(HistogramBins bins, ReadOnlySpan<double> sorted)
    {
        var counts = new double[bins.Count];
        var edges = bins.Edges;
        var previous = SortedSearch.CountBelow(sorted, edges[0]);
        for (var k = 0; k < bins.Count; k++)
        {
            // Bin k holds edgeₖ ≤ x < edgeₖ₊₁; the last bin also holds its right edge.
            var next = k == bins.Count - 1 ? SortedSearch.CountAtOrBelow(sorted, edges[k + 1]) : SortedSearch.CountBelow(sorted, edges[k + 1]);
            counts[k] = next - previous;
            previous = next;
        }

        return counts;
    }
}
