using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class WelchTTestTests
{
    /// <summary>
    /// scipy's own known answers, checked there against R: scipy/stats/tests/test_stats.py,
    /// test_ttest_ind_with_uneq_var (also statsmodels' test_weightstats.py, to 13 decimals).
    /// </summary>
    [Theory]
    [InlineData(new[] { 1.0, 2, 3 }, -0.68649512735572582, 0.53619490753126731)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, -0.2108663315950719, 0.84354139131608286)]
    public void Matches_scipy_ttest_ind_with_unequal_variances(double[] a, double t, double p)
    {
        var result = WelchTTest.Test(a, [1.1, 2.9, 4.2]);

        result.T.ShouldBe(t, 1e-12);
        result.PValue.ShouldBe(p, 1e-12);
    }

    /// <summary>df from statsmodels 0.13.5 <c>ttest_ind([1,2,3], [1.1,2.9,4.2], usevar='unequal')</c> = 3.4104431643463764.</summary>
    [Fact]
    public void Degrees_of_freedom_are_welch_satterthwaite()
    {
        WelchTTest.Test([1, 2, 3], [1.1, 2.9, 4.2]).DegreesOfFreedom.ShouldBe(3.4104431643463764, 1e-12);
    }

    /// <summary>scipy 1.10.1 <c>ttest_ind([1,2,3], [4,5,6], equal_var=False)</c>: t = −3.6742346141747673, p = 0.021311641128756727, df 4.</summary>
    [Fact]
    public void Equal_variances_give_the_pooled_degrees_of_freedom()
    {
        var result = WelchTTest.Test([1, 2, 3], [4, 5, 6]);

        result.T.ShouldBe(-3.6742346141747673, 1e-12);
        result.DegreesOfFreedom.ShouldBe(4, 1e-12);
        result.PValue.ShouldBe(0.021311641128756727, 1e-12);
    }

    [Fact]
    public void Summary_statistics_give_the_same_answer_as_raw_values()
    {
        double[] a = [1, 2, 3, 4];
        double[] b = [1.1, 2.9, 4.2];
        var fromSums = WelchTTest.Test(
            SampleSummary.FromSums(a.Length, a.Sum(), a.Sum(v => v * v)),
            SampleSummary.FromSums(b.Length, b.Sum(), b.Sum(v => v * v)));

        var fromValues = WelchTTest.Test(a, b);

        fromSums.T.ShouldBe(fromValues.T, 1e-12);
        fromSums.DegreesOfFreedom.ShouldBe(fromValues.DegreesOfFreedom, 1e-12);
        fromSums.PValue.ShouldBe(fromValues.PValue, 1e-12);
    }

    [Fact]
    public void Too_few_values_or_no_variance_are_refused_plainly()
    {
        Should.Throw<ArgumentException>(() => WelchTTest.Test([1], [2, 3])).Message.ShouldBe("each sample needs at least 2 values (got 1 and 2).");
        Should.Throw<ArgumentException>(() => WelchTTest.Test([1, 1], [2, 2])).Message.ShouldContain("zero variance");
        Should.Throw<ArgumentException>(() => WelchTTest.Test([1, double.NaN], [2, 3])).Message.ShouldContain("finite");
    }
}
