namespace Ballast.Statistics.Drift;

/// <summary>A test statistic and its p-value.</summary>
public sealed record DriftTestResult(double Statistic, double PValue);

/// <summary>
/// The tests of Evidently's categorical drift methods over category counts (reference and current aligned on the union
/// of categories): <see cref="ChiSquare"/> (<c>chisquare</c>), <see cref="GTest"/> (<c>g_test</c>),
/// <see cref="ProportionsZ"/> (<c>z</c>) and <see cref="FisherExact"/> (<c>fisher_exact</c>).
/// </summary>
public static class CategoryDriftTests
{
    /// <summary>
    /// Pearson's chi-square of the current counts against the reference shares scaled to the current total, as
    /// Evidently's <c>chisquare</c> stattest (<c>scipy.stats.chisquare(f_obs, f_exp)</c>, df = categories − 1). A
    /// category seen only in current has expected count 0, which makes χ² infinite and p = 0, as scipy; with a single
    /// category there is nothing to test and p = 1.
    /// </summary>
    public static DriftTestResult ChiSquare(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var (expected, observed) = Seen(referenceCounts, currentCounts);
        if (observed.Length < 2)
        {
            return new DriftTestResult(0, 1);
        }

        if (NewCategory(expected, observed))
        {
            return new DriftTestResult(double.PositiveInfinity, 0);
        }

        var result = ChiSquareTest.GoodnessOfFit(observed, expected);
        return new DriftTestResult(result.Statistic, result.PValue);
    }

    /// <summary>
    /// The G-test (log-likelihood ratio) G = 2 Σ O ln(O/E), E the reference shares scaled to the current total, df =
    /// categories − 1: <c>scipy.stats.power_divergence(f_obs, f_exp, lambda_="log-likelihood")</c> as Evidently's
    /// <c>g_test</c> calls it. (Evidently passes the raw reference counts as E, which scipy accepts only when both
    /// totals agree; scaling is that same test for any totals.)
    /// </summary>
    public static DriftTestResult GTest(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var (weights, observed) = Seen(referenceCounts, currentCounts);
        if (observed.Length < 2)
        {
            return new DriftTestResult(0, 1);
        }

        if (NewCategory(weights, observed))
        {
            return new DriftTestResult(double.PositiveInfinity, 0);
        }

        double observedTotal = 0, weightTotal = 0;
        for (var i = 0; i < observed.Length; i++)
        {
            observedTotal += observed[i];
            weightTotal += weights[i];
        }

        double g = 0;
        for (var i = 0; i < observed.Length; i++)
        {
            var expected = weights[i] / weightTotal * observedTotal;
            if (observed[i] > 0)
            {
                g += observed[i] * Math.Log(observed[i] / expected);
            }
        }

        g *= 2;
        return new DriftTestResult(g, Distributions.ChiSquareSurvival(g, observed.Length - 1));
    }

    /// <summary>
    /// The two-proportion z-test on the share of the first category (in ordinal order) as Evidently's <c>z</c>
    /// stattest: pooled variance, two-sided p = 2(1 − Φ(|z|)); p = 1 when both samples hold one and the same value.
    /// At most 2 categories.
    /// </summary>
    public static DriftTestResult ProportionsZ(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var (reference, current) = Seen(referenceCounts, currentCounts);
        if (reference.Length > 2)
        {
            throw new ArgumentException($"the z-test compares 2 categories (got {reference.Length}); use chi-square for more.");
        }

        if (reference.Length == 1)
        {
            return new DriftTestResult(0, 1);
        }

        var result = TwoProportionZTest.Test((long)reference[1], (long)(reference[0] + reference[1]), (long)current[1], (long)(current[0] + current[1]));
        return new DriftTestResult(result.Z, result.PValue);
    }

    /// <summary>
    /// Fisher's exact test on the 2×2 table of the two categories' counts in current and reference, two-sided as
    /// <c>scipy.stats.fisher_exact</c>: the probability of every table with the same margins that is no more likely
    /// than the observed one (within a relative 1e-7). At most 2 categories; p = 1 when a margin is 0.
    /// </summary>
    public static DriftTestResult FisherExact(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var (reference, current) = Seen(referenceCounts, currentCounts);
        if (reference.Length > 2)
        {
            throw new ArgumentException($"Fisher's exact test compares 2 categories (got {reference.Length}); use chi-square for more.");
        }

        if (reference.Length == 1)
        {
            return new DriftTestResult(double.NaN, 1);
        }

        var (oddsRatio, p) = FisherExactTest.TwoSided((long)current[1], (long)current[0], (long)reference[1], (long)reference[0]);
        return new DriftTestResult(oddsRatio, p);
    }

    /// <summary>The counts of the categories seen on either side (a category with no value on either side is left out).</summary>
    private static (double[] Reference, double[] Current) Seen(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        Check(reference, current);
        var (seenReference, seenCurrent) = (new List<double>(reference.Length), new List<double>(reference.Length));
        for (var i = 0; i < reference.Length; i++)
        {
            if (reference[i] > 0 || current[i] > 0)
            {
                seenReference.Add(reference[i]);
                seenCurrent.Add(current[i]);
            }
        }

        return ([.. seenReference], [.. seenCurrent]);
    }

    private static bool NewCategory(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        for (var i = 0; i < reference.Length; i++)
        {
            if (reference[i] == 0 && current[i] > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void Check(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        if (reference.Length != current.Length)
        {
            throw new ArgumentException($"reference has {reference.Length} categories but current has {current.Length}; give counts over the same categories.");
        }

        if (reference.Length == 0)
        {
            throw new ArgumentException("there are no categories to compare.");
        }

        DriftShares.Of(reference, "reference");
        DriftShares.Of(current, "current");
    }
}
