using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class PowerTests
{
    /// <summary>
    /// R's <c>pwr.t.test(d, n, sig.level = 0.05, type = "two.sample")</c> as recorded in statsmodels'
    /// statsmodels/stats/tests/test_power.py (TestTTPowerTwoS1, TestTTPowerTwoS2, TestTTPowerTwoS5 with n2 = 30), which
    /// asserts <c>TTestIndPower().power</c> to 6 decimals; the d = 0.3, n = 80 row is statsmodels 0.13.5's
    /// <c>TTestIndPower().power(0.3, 80, 0.05)</c> = 0.4705116609702241.
    /// </summary>
    [Theory]
    [InlineData(1.0, 30, 1.0, 0.967708258242517)]
    [InlineData(0.1, 20, 1.0, 0.06095912465411235)]
    [InlineData(0.1, 20, 1.5, 0.0633081832564667)]
    [InlineData(0.3, 80, 1.0, 0.4705116609702241)]
    public void Two_sample_t_test_power_uses_the_noncentral_t(double effect, double n, double ratio, double power)
    {
        PowerAnalysis.TwoSampleTTest(effect, n, 0.05, ratio).ShouldBe(power, 1e-9);
    }

    /// <summary>
    /// statsmodels test_power.py, test_normal_power_explicit: <c>NormalIndPower().power(0.3, 80, 0.05)</c> =
    /// 0.475100870572638 (R <c>pwr.2p.test(h = 0.3, n = 80)</c>), asserted there to 13 decimals.
    /// This is the figure often quoted for "d = 0.3, 80 per group"; the t-test's own power is 0.47051 (above).
    /// </summary>
    [Fact]
    public void Two_sample_z_test_power_matches_statsmodels_normal_ind_power()
    {
        PowerAnalysis.TwoSampleZTest(0.3, 80, 0.05).ShouldBe(0.475100870572638, 1e-13);
    }

    /// <summary>R documentation of <c>power.prop.test</c>: <c>power.prop.test(n = 50, p1 = .50, p2 = .75)</c> "=> power = 0.740".</summary>
    [Fact]
    public void Two_proportion_power_matches_r_power_prop_test()
    {
        Math.Round(PowerAnalysis.TwoProportions(50, 0.5, 0.75), 3).ShouldBe(0.740);
    }

    /// <summary>R documentation of <c>power.prop.test</c>: <c>power.prop.test(p1 = .50, p2 = .75, power = .90)</c> "=> n = 76.7".</summary>
    [Fact]
    public void Sample_size_for_proportions_matches_r_power_prop_test()
    {
        var size = SampleSize.TwoProportions(0.5, 0.25, power: 0.9);

        Math.Round(size.Exact, 1).ShouldBe(76.7);
        size.PerVariant.ShouldBe(77);
        PowerAnalysis.TwoProportions(size.Exact, 0.5, 0.75).ShouldBe(0.9, 1e-12);
    }

    /// <summary>
    /// 10 % baseline, +2 points, α 0.05, power 0.8: 3840.85 by the formula, computed with scipy 1.10.1 quantiles;
    /// statsmodels' arcsine route (<c>NormalIndPower().solve_power(proportion_effectsize(0.12, 0.1), power=0.8)</c>)
    /// gives 3834.6, within 0.2 %.
    /// </summary>
    [Fact]
    public void Sample_size_takes_the_effect_absolute_or_relative()
    {
        var absolute = SampleSize.TwoProportions(0.1, 0.02);
        var relative = SampleSize.TwoProportions(0.1, 0.2, relative: true);

        absolute.Exact.ShouldBe(3840.847482436276, 1e-6);
        absolute.PerVariant.ShouldBe(3841);
        absolute.Treatment.ShouldBe(0.12, 1e-15);
        relative.PerVariant.ShouldBe(3841);
        absolute.Exact.ShouldBe(3834.595739884031, 0.002 * 3834.6);
    }

    [Fact]
    public void Impossible_plans_are_refused_plainly()
    {
        Should.Throw<ArgumentException>(() => SampleSize.TwoProportions(0.95, 0.1)).Message.ShouldContain("outside (0, 1)");
        Should.Throw<ArgumentException>(() => SampleSize.TwoProportions(0.1, 0)).Message.ShouldContain("non-zero");
        Should.Throw<ArgumentException>(() => SampleSize.TwoProportions(0.1, 0.02, power: 1)).Message.ShouldBe("power must be between 0 and 1 exclusive (got 1).");
        Should.Throw<ArgumentException>(() => PowerAnalysis.TwoSampleTTest(0.3, 1)).Message.ShouldContain("at least 2");
    }

    /// <summary>scipy 1.10.1 <c>stats.nct.cdf(t, df, nc)</c> (Boost's algorithm, independent of AS 243).</summary>
    [Theory]
    [InlineData(1.0, 10, 0.5, 0.6786306386911292)]
    [InlineData(2.5, 158, 1.8973665961010275, 0.7233556942324803)]
    [InlineData(-1.5, 5, 1.0, 0.013170072496862755)]
    [InlineData(3.0, 30, -0.7, 0.9997092086228454)]
    public void Noncentral_t_cdf_matches_scipy(double t, double df, double noncentrality, double cdf)
    {
        NoncentralT.Cdf(t, df, noncentrality).ShouldBe(cdf, 1e-11);
    }
}
