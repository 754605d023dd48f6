namespace Ballast.Statistics.Drift;

/// <summary>
/// Every drift method by name, and the automatic choice per column of Evidently's <c>_get_default_stattest</c>:
/// a reference of at most 1000 rows gets KS for a numerical column with more than 5 distinct values, otherwise
/// chi-square (or z when there are at most 2 values); a larger reference gets the normed Wasserstein distance for such
/// numerical columns and Jensen–Shannon for the rest. The category tests (chisquare, z, g_test, fisher_exact) and
/// l_infinity apply to categorical columns, and to a numerical column only when it is named (or chosen automatically
/// for its few values): they then count its values as categories.
/// </summary>
public static class DriftMethods
{
    private const double TestThreshold = 0.05;
    private const double StrictTestThreshold = 0.1;

    public static readonly DriftMethod Ks = new("ks", "K-S p-value", DriftScoreKind.PValue, TestThreshold, true, false, DriftInputs.Values);
    public static readonly DriftMethod ChiSquare = new("chisquare", "chi-square p-value", DriftScoreKind.PValue, TestThreshold, false, true, DriftInputs.Categories);
    public static readonly DriftMethod Z = new("z", "Z-test p-value", DriftScoreKind.PValue, TestThreshold, false, true, DriftInputs.Categories);
    public static readonly DriftMethod GTest = new("g_test", "G-test p-value", DriftScoreKind.PValue, StrictTestThreshold, false, true, DriftInputs.Categories);
    public static readonly DriftMethod FisherExact = new("fisher_exact", "Fisher's exact test p-value", DriftScoreKind.PValue, StrictTestThreshold, false, true, DriftInputs.Categories);
    public static readonly DriftMethod TTest = new("t_test", "t-test p-value (pooled variance)", DriftScoreKind.PValue, TestThreshold, true, false, DriftInputs.Summary);
    public static readonly DriftMethod WelchTTest = new("welch_t_test", "Welch t-test p-value", DriftScoreKind.PValue, TestThreshold, true, false, DriftInputs.Summary);
    public static readonly DriftMethod Anderson = new("anderson", "Anderson-Darling p-value", DriftScoreKind.PValue, StrictTestThreshold, true, false, DriftInputs.Values);
    public static readonly DriftMethod CramerVonMises = new("cramer_von_mises", "Cramer-von Mises p-value", DriftScoreKind.PValue, StrictTestThreshold, true, false, DriftInputs.Values);
    public static readonly DriftMethod Psi = new("psi", "PSI", DriftScoreKind.Distance, PopulationStabilityIndex.DefaultThreshold, true, true, DriftInputs.Binned);
    public static readonly DriftMethod JensenShannon = new("jensenshannon", "Jensen-Shannon distance", DriftScoreKind.Distance, JensenShannonDistance.DefaultThreshold, true, true, DriftInputs.Binned);
    public static readonly DriftMethod Wasserstein = new("wasserstein", "Wasserstein distance (normed)", DriftScoreKind.Distance, 0.1, true, false, DriftInputs.Values | DriftInputs.Summary);
    public static readonly DriftMethod Energy = new("ed", "Energy distance", DriftScoreKind.Distance, 0.1, true, false, DriftInputs.Values);
    public static readonly DriftMethod Hellinger = new("hellinger", "Hellinger distance", DriftScoreKind.Distance, HellingerDistance.DefaultThreshold, true, true, DriftInputs.Categories | DriftInputs.DistinctBins);
    public static readonly DriftMethod LInfinity = new("l_infinity", "L-infinity distance", DriftScoreKind.Distance, LInfinityDistance.DefaultThreshold, false, true, DriftInputs.Categories);

    public static IReadOnlyList<DriftMethod> All { get; } =
        [Ks, ChiSquare, Z, GTest, FisherExact, TTest, WelchTTest, Anderson, CramerVonMises, Psi, JensenShannon, Wasserstein, Energy, Hellinger, LInfinity];

    public static DriftMethod? Find(string name) =>
        All.FirstOrDefault(method => string.Equals(method.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Evidently's default method for a column with <paramref name="referenceCount"/> non-missing reference values and <paramref name="distinctCount"/> distinct values over both samples.</summary>
    public static DriftMethod Auto(FeatureType type, long referenceCount, long distinctCount)
    {
        var lowCardinality = type == FeatureType.Categorical || distinctCount <= DriftDefaults.LowCardinality;
        if (referenceCount <= DriftDefaults.SmallReferenceRows)
        {
            return !lowCardinality ? Ks : distinctCount > 2 ? ChiSquare : Z;
        }

        return lowCardinality ? JensenShannon : Wasserstein;
    }
}
