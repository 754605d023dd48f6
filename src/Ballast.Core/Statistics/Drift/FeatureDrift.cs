namespace Ballast.Statistics.Drift;

/// <summary>
/// One column's drift: the method's statistic (the distance itself for distances; null when not finite, as a
/// chi-square with a category never seen in the reference), the p-value of tests (null for distances), the score
/// compared with the threshold (the p-value or the distance) and the verdict.
/// </summary>
public sealed record FeatureDrift(
    string Name,
    FeatureType Type,
    string Method,
    double? Statistic,
    double? PValue,
    double Score,
    double Threshold,
    bool Drifted);
