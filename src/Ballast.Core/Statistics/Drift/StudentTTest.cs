namespace Ballast.Statistics.Drift;

/// <summary>
/// Student's two-sample t-test with the pooled variance, df = na + nb − 2: the same numbers as
/// <c>scipy.stats.ttest_ind(a, b)</c> with its default <c>equal_var=True</c>, which is what Evidently's <c>t_test</c>
/// drift method runs. <see cref="WelchTTest"/> is the unequal-variance version.
/// </summary>
public static class StudentTTest
{
    public static TTestResult Test(SampleSummary a, SampleSummary b)
    {
        if (a.Count < 2 || b.Count < 2)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {a.Count} and {b.Count}).");
        }

        double na = a.Count, nb = b.Count;
        var degreesOfFreedom = na + nb - 2;
        var pooled = (((na - 1) * a.Variance) + ((nb - 1) * b.Variance)) / degreesOfFreedom;
        var standardError2 = pooled * ((1 / na) + (1 / nb));
        if (!(standardError2 > 0))
        {
            throw new ArgumentException("both samples have zero variance, so the t statistic is undefined.");
        }

        var t = (a.Mean - b.Mean) / Math.Sqrt(standardError2);
        return new TTestResult(t, degreesOfFreedom, Distributions.TwoSidedT(t, degreesOfFreedom));
    }

    public static TTestResult Test(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        Test(SampleSummary.FromValues(a), SampleSummary.FromValues(b));
}
