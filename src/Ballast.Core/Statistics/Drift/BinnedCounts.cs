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
        var previous = LowerBound(sorted, edges[0]);
        for (var k = 0; k < bins.Count; k++)
        {
            // Bin k holds edgeₖ ≤ x < edgeₖ₊₁; the last bin also holds its right edge.
            var next = k == bins.Count - 1 ? UpperBound(sorted, edges[k + 1]) : LowerBound(sorted, edges[k + 1]);
            counts[k] = next - previous;
            previous = next;
        }

        return counts;
    }

    private static int LowerBound(ReadOnlySpan<double> sorted, double x)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] < x)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static int UpperBound(ReadOnlySpan<double> sorted, double x)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] <= x)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
