namespace Ballast.Statistics;

/// <summary>Binary searches over ascending values, as numpy's <c>searchsorted</c>.</summary>
public static class SortedSearch
{
    /// <summary>The number of values &lt; x (numpy's searchsorted 'left').</summary>
    public static int CountBelow(ReadOnlySpan<double> sorted, double x)
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

    /// <summary>The number of values ≤ x (numpy's searchsorted 'right').</summary>
    public static int CountAtOrBelow(ReadOnlySpan<double> sorted, double x)
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
