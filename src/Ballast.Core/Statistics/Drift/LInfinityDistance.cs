namespace Ballast.Statistics.Drift;

/// <summary>
/// The L-infinity distance maxᵢ |pᵢ − qᵢ| between the category shares of reference and current (a category missing on
/// one side has share 0 there), as NannyML's <c>l_infinity</c> method for categorical features. Drift at 0.1 and above
/// (NannyML's documented alert level).
/// </summary>
public static class LInfinityDistance
{
    public const double DefaultThreshold = 0.1;

    public static double FromCounts(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var p = DriftShares.Of(referenceCounts, "reference");
        var q = DriftShares.Of(currentCounts, "current");
        if (p.Length != q.Length)
        {
            throw new ArgumentException($"reference has {p.Length} categories but current has {q.Length}; give counts over the same categories.");
        }

        double max = 0;
        for (var i = 0; i < p.Length; i++)
        {
            max = Math.Max(max, Math.Abs(p[i] - q[i]));
        }

        return max;
    }
}
