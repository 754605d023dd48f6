using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// A drift report: the result, what each column's distribution looks like on both sides (for charts), and the columns
/// left out with the reason.
/// </summary>
public sealed record DriftReport(
    string Reference,
    string Current,
    long ReferenceRows,
    long CurrentRows,
    DriftResult Result,
    IReadOnlyList<FeatureDistribution> Distributions,
    IReadOnlyList<SkippedColumn> Skipped);

/// <summary>
/// A column's distribution on both sides as shares: per bin (labels are the bins' lower edges, then the last upper
/// edge) or per category (the most frequent first; the rest summed as "(other)").
/// </summary>
public sealed record FeatureDistribution(string Name, FeatureType Type, bool Binned, IReadOnlyList<string> Labels, IReadOnlyList<double> Reference, IReadOnlyList<double> Current, long ReferenceCount, long CurrentCount);

/// <summary>A column the report does not compare, and why.</summary>
public sealed record SkippedColumn(string Name, string Reason);
