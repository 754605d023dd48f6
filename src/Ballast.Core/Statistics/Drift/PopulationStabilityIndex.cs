namespace Ballast.Statistics.Drift;

/// <summary>
/// The population stability index, Σ (rᵢ − cᵢ) ln(rᵢ/cᵢ) over the shares rᵢ and cᵢ of reference and current in each
/// bin or category, as Evidently's <c>psi</c> stattest: shares are counts over all non-missing values, and an empty
/// bin's share becomes 0.0001 — or a millionth of the smallest non-empty share when that is 0.0001 or less — on each
/// side separately, so the logarithm stays finite. Drift at PSI ≥ 0.1 (Evidently's default); the common rule of thumb
/// calls 0.1–0.2 a moderate shift and ≥ 0.2 a significant one.
/// </summary>
public static class PopulationStabilityIndex
{
    public const double DefaultThreshold = 0.1;

    /// <summary>The "significant shift" level of the usual PSI rule of thumb.</summary>
    public const double SignificantThreshold = 0.2;

    /// <summary>The share an empty bin is given (Evidently's <c>get_binned_data</c>).</summary>
    public const double EmptyBinShare = 0.0001;

    public static double FromCounts(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var reference = DriftShares.FillEmpty(DriftShares.Of(referenceCounts, "reference"));
        var current = DriftShares.FillEmpty(DriftShares.Of(currentCounts, "current"));
        if (reference.Length != current.Length)
        {
            throw new ArgumentException($"reference has {reference.Length} bins but current has {current.Length}; give counts over the same bins.");
        }

        double psi = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            psi += (reference[i] - current[i]) * Math.Log(reference[i] / current[i]);
        }

        return psi;
    }
}
