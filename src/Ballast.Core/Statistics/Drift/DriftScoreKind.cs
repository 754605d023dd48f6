namespace Ballast.Statistics.Drift;

/// <summary>What a method's score is, and so which side of the threshold is drift.</summary>
public enum DriftScoreKind
{
    /// <summary>A test's p-value: drift when p &lt; threshold.</summary>
    PValue,

    /// <summary>A distance: drift when distance ≥ threshold.</summary>
    Distance,
}
