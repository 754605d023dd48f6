namespace Ballast.Statistics.Drift;

/// <summary>
/// A dataset's drift: the share of its columns that drift, how many, and whether that share reaches the dataset
/// threshold (Evidently's <c>drift_share</c>, 0.5 by default).
/// </summary>
public sealed record DriftResult(bool DatasetDrift, double DriftShare, int DriftedFeatures, IReadOnlyList<FeatureDrift> Features)
{
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
