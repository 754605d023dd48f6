namespace Ballast.Statistics.Drift;

/// <summary>
/// A dataset's drift: the share of its columns that drift, how many, and whether that share reaches the dataset
/// threshold (Evidently's <c>drift_share</c>, 0.5 by default). <see cref="Features"/> holds one result per column, by
/// its first method, and decides the verdict; <see cref="Additional"/> the results of further methods computed for
/// the same columns in the same run (PSI and KS on every column, say).
/// </summary>
public sealed record DriftResult(bool DatasetDrift, double DriftShare, int DriftedFeatures, IReadOnlyList<FeatureDrift> Features)
{
    /// <summary>The results of every method after a column's first, in column order, then method order.</summary>
    public IReadOnlyList<FeatureDrift> Additional { get; init; } = [];

    /// <summary>Every result for the column: the one in <see cref="Features"/>, then its <see cref="Additional"/> ones.</summary>
    public IEnumerable<FeatureDrift> For(string column) =>
        Features.Where(feature => feature.Name == column).Concat(Additional.Where(feature => feature.Name == column));

    /// <summary>Per method, over the columns it was computed for, when a run computes several per column (else empty).</summary>
    public IReadOnlyList<MethodDriftSummary> ByMethod { get; init; } = [];

    /// <summary>
    /// The result by each column's first method, with the further methods' results and, per method, how many of its
    /// columns drifted and whether that share reaches <paramref name="datasetDriftShare"/> (methods in the order they
    /// first appear).
    /// </summary>
    public static DriftResult Of(IReadOnlyList<FeatureDrift> features, IReadOnlyList<FeatureDrift> additional, double datasetDriftShare = DriftDefaults.DatasetDriftShare)
    {
        ArgumentNullException.ThrowIfNull(additional);
        var result = Of(features, datasetDriftShare);
        if (additional.Count == 0)
        {
            return result;
        }

        var byMethod = features.Concat(additional).GroupBy(feature => feature.Method, StringComparer.Ordinal).Select(group =>
        {
            var (columns, drifted) = (group.Count(), group.Count(feature => feature.Drifted));
            var share = (double)drifted / columns;
            return new MethodDriftSummary(group.Key, columns, drifted, share, share >= datasetDriftShare);
        }).ToList();
        return result with { Additional = additional, ByMethod = byMethod };
    }

    public static DriftResult Of(IReadOnlyList<FeatureDrift> features, double datasetDriftShare = DriftDefaults.DatasetDriftShare)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (!(datasetDriftShare > 0 && datasetDriftShare <= 1))
        {
            throw new ArgumentException($"the dataset drift share must be in (0, 1] (got {datasetDriftShare}).");
        }

        var drifted = features.Count(feature => feature.Drifted);
        var share = features.Count == 0 ? 0 : (double)drifted / features.Count;
        return new DriftResult(features.Count > 0 && share >= datasetDriftShare, share, drifted, features);
    }
}
