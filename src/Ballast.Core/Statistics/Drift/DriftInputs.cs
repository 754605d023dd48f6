namespace Ballast.Statistics.Drift;

/// <summary>What a drift method reads about a column, so a reader computes only that.</summary>
[Flags]
public enum DriftInputs
{
    None = 0,

    /// <summary>Every non-missing number of both samples, sorted (KS, Wasserstein, Anderson–Darling, …).</summary>
    Values = 1,

    /// <summary>Count, mean and variance of both samples (t-tests).</summary>
    Summary = 2,

    /// <summary>Counts per distinct value over the union of both samples (chi-square, z, …).</summary>
    Categories = 4,

    /// <summary>
    /// Evidently's binned shares: Sturges bins over both samples for a numerical column with more than 20 distinct
    /// reference values, counts per value otherwise (PSI, Jensen–Shannon).
    /// </summary>
    Binned = 8,

    /// <summary>Sturges bins across the distinct values of both samples (Hellinger on numbers).</summary>
    DistinctBins = 16,
}
