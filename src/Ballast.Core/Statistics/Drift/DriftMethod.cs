namespace Ballast.Statistics.Drift;

/// <summary>
/// One way of comparing a column's reference and current values, named as in Evidently (or NannyML for
/// <c>l_infinity</c>), with its default threshold, the column types it applies to and what it reads.
/// </summary>
public sealed record DriftMethod(
    string Name,
    string DisplayName,
    DriftScoreKind Kind,
    double DefaultThreshold,
    bool AppliesToNumerical,
    bool AppliesToCategorical,
    DriftInputs Needs)
{
    /// <summary>Whether the method is meant for the type, and so applies to every such column when named without one.</summary>
    public bool AppliesTo(FeatureType type) => type == FeatureType.Numerical ? AppliesToNumerical : AppliesToCategorical;

    /// <summary>Whether it can compare a column of the type: also a method over category counts on a numerical column, per value.</summary>
    public bool CanCompare(FeatureType type) => AppliesTo(type) || (type == FeatureType.Numerical && Needs == DriftInputs.Categories);

    /// <summary>Whether <paramref name="score"/> is drift against <paramref name="threshold"/>: p &lt; threshold, or distance ≥ threshold.</summary>
    public bool IsDrift(double score, double threshold) => Kind == DriftScoreKind.PValue ? score < threshold : score >= threshold;

    public override string ToString() => Name;
}
