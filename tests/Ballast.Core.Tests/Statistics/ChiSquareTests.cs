using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class ChiSquareTests
{
    /// <summary>The examples of scipy's <c>scipy.stats.chisquare</c> documentation (also scipy's own tests).</summary>
    [Theory]
    [InlineData(new[] { 16.0, 18, 16, 14, 12, 12 }, new[] { 1.0, 1, 1, 1, 1, 1 }, 2.0, 0.84914503608460956)]
    [InlineData(new[] { 16.0, 18, 16, 14, 12, 12 }, new[] { 16.0, 16, 16, 16, 16, 8 }, 3.5, 0.62338762774958223)]
    public void Goodness_of_fit_matches_scipy_chisquare(double[] observed, double[] expected, double statistic, double p)
    {
        var result = ChiSquareTest.GoodnessOfFit(observed, expected);

        result.Statistic.ShouldBe(statistic, 1e-12);
        result.DegreesOfFreedom.ShouldBe(5);
        result.PValue.ShouldBe(p, 1e-12);
    }

    /// <summary>
    /// GrowthBook gbstats tests/test_gbstats.py, test_srm: <c>check_srm([1000, 1200], [0.5, 0.5])</c> rounds to
    /// 0.000020079 at 9 decimals; scipy 1.10.1 <c>chisquare([1000, 1200])</c> = (18.181818181818183, 2.007865612426481e-05).
    /// </summary>
    [Fact]
    public void A_skewed_split_is_a_sample_ratio_mismatch()
    {
        var result = SampleRatioMismatch.Check([1000, 1200], [0.5, 0.5]);

        Math.Round(result.PValue, 9).ShouldBe(0.000020079);
        result.PValue.ShouldBe(2.007865612426481e-05, 1e-15);
        result.ChiSquare.ShouldBe(18.181818181818183, 1e-10);
        result.Mismatch.ShouldBeTrue();
    }

    [Fact]
    public void Weights_default_to_an_equal_split_and_any_scale_works()
    {
        SampleRatioMismatch.Check([1000, 1200]).ShouldBe(SampleRatioMismatch.Check([1000, 1200], [50, 50]));

        var planned = SampleRatioMismatch.Check([2000, 1000, 1000], [2, 1, 1]);
        planned.ChiSquare.ShouldBe(0);
        planned.PValue.ShouldBe(1);
        planned.Mismatch.ShouldBeFalse();
    }

    [Fact]
    public void A_small_imbalance_is_not_a_mismatch_at_the_default_threshold()
    {
        // χ² = 4.0, p ≈ 0.0455: significant at 5 % but far above 0.001.
        var result = SampleRatioMismatch.Check([5100, 4900]);

        result.ChiSquare.ShouldBe(4.0, 1e-12);
        result.PValue.ShouldBe(0.0455, 0.0001);
        result.Mismatch.ShouldBeFalse();
    }

    [Fact]
    public void Counts_and_weights_must_match_and_be_sensible()
    {
        Should.Throw<ArgumentException>(() => SampleRatioMismatch.Check([10, 20], [1])).Message.ShouldBe("there are 2 counts but 1 weights; give one weight per count.");
        Should.Throw<ArgumentException>(() => SampleRatioMismatch.Check([10])).Message.ShouldContain("at least 2 categories");
        Should.Throw<ArgumentException>(() => SampleRatioMismatch.Check([10, 20], [1, 0])).Message.ShouldContain("weights must be positive");
        Should.Throw<ArgumentException>(() => SampleRatioMismatch.Check([0, 0])).Message.ShouldContain("every count is 0");
    }
}
