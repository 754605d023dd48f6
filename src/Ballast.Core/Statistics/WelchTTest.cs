namespace Ballast.Statistics;

/// <summary>t statistic (a − b), Welch–Satterthwaite degrees of freedom and two-sided p-value.</summary>
public sealed record TTestResult(double T, double DegreesOfFreedom, double PValue);

/// <summary>
/// Welch's two-sample t-test, which does not assume equal variances: the same numbers as
/// <c>scipy.stats.ttest_ind(a, b, equal_var=False)</c> and R's <c>t.test(a, b)</c>.
/// </summary>
public static class WelchTTest
{
    public static TTestResult Test(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length < 2 || b.Length < 2)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {a.Length} and {b.Length}).");
        }

        return Test(SampleSummary.FromValues(a), SampleSummary.FromValues(b));
    }

    public static TTestResult Test(SampleSummary a, SampleSummary b)
    {
        if (a.Count < 2 || b.Count < 2)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {a.Count} and {b.Count}).");
        }

        var (va, vb) = (a.MeanVariance, b.MeanVariance);
        var standardError2 = va + vb;
        if (!(standardError2 > 0))
        {
            throw new ArgumentException("both samples have zero variance, so the t statistic is undefined.");
        }

        var t = (a.Mean - b.Mean) / Math.Sqrt(standardError2);
        var degreesOfFreedom = WelchSatterthwaite(a, b);
        return new TTestResult(t, degreesOfFreedom, Distributions.TwoSidedT(t, degreesOfFreedom));
    }

    /// <summary>(va/na + vb/nb)² / ((va/na)²/(na − 1) + (vb/nb)²/(nb − 1)).</summary>
    public static double WelchSatterthwaite(SampleSummary a, SampleSummary b)
    {
        var (va, vb) = (a.MeanVariance, b.MeanVariance);
        return (va + vb) * (va + vb) / (va * va / (a.Count - 1) + vb * vb / (b.Count - 1));
    }
}
