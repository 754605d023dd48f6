namespace Ballast.Statistics.Drift;

/// <summary>Runs one drift method on one column's inputs and judges the score against the threshold.</summary>
public static class ColumnDriftDetector
{
    /// <summary>The inputs <paramref name="method"/> reads for <paramref name="column"/>'s type and cardinality.</summary>
    public static DriftInputs Needs(DriftMethod method, FeatureType type, long referenceDistinct)
    {
        ArgumentNullException.ThrowIfNull(method);
        var needs = method.Needs;
        if (needs.HasFlag(DriftInputs.Binned))
        {
            needs = (needs & ~DriftInputs.Binned) | (type == FeatureType.Numerical && referenceDistinct > DriftDefaults.BinnedAbove ? DriftInputs.Binned : DriftInputs.Categories);
        }

        if (type == FeatureType.Categorical)
        {
            needs &= ~DriftInputs.DistinctBins;
        }
        else if (method == DriftMethods.Hellinger)
        {
            needs &= ~DriftInputs.Categories;
        }

        return needs;
    }

    public static FeatureDrift Evaluate(DriftColumn column, DriftMethod method, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(method);
        if (!method.CanCompare(column.Type))
        {
            throw new ArgumentException($"method '{method.Name}' does not apply to the {column.Type.ToString().ToLowerInvariant()} column '{column.Name}'.");
        }

        var limit = threshold ?? method.DefaultThreshold;
        var (statistic, p) = Compute(column, method);
        var score = method.Kind == DriftScoreKind.PValue ? p!.Value : statistic;
        return new FeatureDrift(column.Name, column.Type, method.Name, double.IsFinite(statistic) ? statistic : null, p, score, limit, method.IsDrift(score, limit));
    }

    private static (double Statistic, double? PValue) Compute(DriftColumn column, DriftMethod method)
    {
        // Sorted-value methods read the values when they are held, else the walk over them.
        var scan = column.ReferenceValues is null ? column.Scan : null;
        switch (method.Name)
        {
            case "ks":
            {
                var result = scan is not null
                    ? KolmogorovSmirnovTest.FromStatistic(scan.KolmogorovSmirnov, scan.ReferenceCount, scan.CurrentCount)
                    : KolmogorovSmirnovTest.TwoSampleSorted(Values(column, true), Values(column, false));
                return (result.Statistic, result.PValue);
            }

            case "anderson":
            {
                var result = scan is not null
                    ? AndersonDarlingTest.FromMidrankStatistic(scan.AndersonDarlingMidrank, scan.ReferenceCount, scan.CurrentCount, scan.Distinct)
                    : AndersonDarlingTest.KSample([Values(column, true), Values(column, false)]);
                return (result.Statistic, result.PValue);
            }

            case "cramer_von_mises":
            {
                var result = scan is not null
                    ? CramerVonMisesTest.FromRankSum(scan.CramerVonMisesU, scan.ReferenceCount, scan.CurrentCount, Math.Max(scan.ReferenceCount, scan.CurrentCount) <= CramerVonMisesTest.ExactLimit)
                    : CramerVonMisesTest.TwoSampleSorted(Values(column, true), Values(column, false));
                return (result.Statistic, result.PValue);
            }

            case "t_test":
            case "welch_t_test":
            {
                var (a, b) = (Summary(column, true), Summary(column, false));
                var result = method.Name == "t_test" ? StudentTTest.Test(a, b) : Statistics.WelchTTest.Test(a, b);
                return (result.T, result.PValue);
            }

            case "wasserstein":
            {
                var summary = Summary(column, true);
                var deviation = summary.Count > 0 ? Math.Sqrt(summary.Variance * (summary.Count - 1) / summary.Count) : 0;
                var distance = scan is not null ? scan.AbsoluteCdfIntegral : WassersteinDistance.ComputeSorted(Values(column, true), Values(column, false));
                return (distance / Math.Max(deviation, WassersteinDistance.MinimumNorm), null);
            }

            case "ed":
                return (scan is not null ? Math.Sqrt(2) * Math.Sqrt(scan.SquaredCdfIntegral) : EnergyDistance.ComputeSorted(Values(column, true), Values(column, false)), null);
            case "psi":
            {
                var (reference, current) = Binned(column);
                return (PopulationStabilityIndex.FromCounts(reference, current), null);
            }

            case "jensenshannon":
            {
                var (reference, current) = Binned(column);
                return (JensenShannonDistance.Compute(reference, current, JensenShannonDistance.DriftBase), null);
            }

            case "hellinger":
            {
                var (reference, current) = column.Type == FeatureType.Numerical
                    ? (Require(column.DistinctHistogram, column, "distinct bins").Reference, column.DistinctHistogram!.Current)
                    : (Categories(column).Reference, Categories(column).Current);
                return (HellingerDistance.FromCounts(reference, current), null);
            }

            case "l_infinity":
                return (LInfinityDistance.FromCounts(Categories(column).Reference, Categories(column).Current), null);
            default:
            {
                var counts = Categories(column);
                var result = method.Name switch
                {
                    "chisquare" => CategoryDriftTests.ChiSquare(counts.Reference, counts.Current),
                    "z" => CategoryDriftTests.ProportionsZ(counts.Reference, counts.Current),
                    "g_test" => CategoryDriftTests.GTest(counts.Reference, counts.Current),
                    "fisher_exact" => CategoryDriftTests.FisherExact(counts.Reference, counts.Current),
                    _ => throw new ArgumentException($"unknown drift method '{method.Name}'."),
                };
                return (result.Statistic, result.PValue);
            }
        }
    }

    private static (double[] Reference, double[] Current) Binned(DriftColumn column)
    {
        if (column.UsesBins)
        {
            var histogram = Require(column.Histogram, column, "bins");
            return (histogram.Reference, histogram.Current);
        }

        var categories = Categories(column);
        return (categories.Reference, categories.Current);
    }

    private static CategoryCounts Categories(DriftColumn column) => Require(column.Categories, column, "category counts");

    private static double[] Values(DriftColumn column, bool reference) =>
        Require(reference ? column.ReferenceValues : column.CurrentValues, column, "values");

    private static SampleSummary Summary(DriftColumn column, bool reference)
    {
        if ((reference ? column.ReferenceSummary : column.CurrentSummary) is { } summary)
        {
            return summary;
        }

        if (column.Scan is { } scan)
        {
            return reference ? scan.ReferenceSummary : scan.CurrentSummary;
        }

        return SampleSummary.FromValues(Values(column, reference));
    }

    private static T Require<T>(T? input, DriftColumn column, string what)
        where T : class =>
        input ?? throw new InvalidOperationException($"column '{column.Name}' was read without its {what}.");
}
