namespace Ballast.Statistics.Drift;

/// <summary>The defaults of the drift report, each Evidently's.</summary>
public static class DriftDefaults
{
    /// <summary>The dataset drifts when at least this share of its columns drift (Evidently's <c>drift_share</c>).</summary>
    public const double DatasetDriftShare = 0.5;

    /// <summary>
    /// References up to this many rows get statistical tests (KS, chi-square, z); larger ones get distances, because
    /// with many rows a test flags differences too small to matter (Evidently's <c>_get_default_stattest</c>).
    /// </summary>
    public const long SmallReferenceRows = 1000;

    /// <summary>A numerical column with at most this many distinct values is compared value by value, as categories.</summary>
    public const long LowCardinality = 5;

    /// <summary>Numerical columns with more distinct reference values than this are binned for PSI and Jensen–Shannon; fewer, per value.</summary>
    public const long BinnedAbove = 20;
}
