using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

/// <summary>
/// statsmodels statsmodels/stats/tests/test_multi.py, <c>res_multtest1</c>: raw p-values with their Holm and BH
/// adjustments from R's multtest <c>mt.rawp2adjp</c>, which statsmodels' <c>multipletests</c> matches to 15 decimals.
/// Given here in shuffled order (the test's <c>pval0</c>) so the adjustments must come back in input order.
/// </summary>
public sealed class MultipleTestingTests
{
    private static readonly double[] Raw =
    [
        0.838541367553, 0.642193923795, 0.680845947633, 0.967833824309, 0.71626938238,
        0.177096952723, 5.23656777208e-005, 0.0202732688798, 0.00028140506198, 0.0149877310796,
    ];

    [Fact]
    public void Holm_matches_r_multtest()
    {
        double[] expected =
        [
            1, 1, 1, 1, 1,
            1, 5.2365677720800005e-04, 1.4191288215860001e-01, 2.5326455578199999e-03, 1.1990184863680001e-01,
        ];

        MultipleTesting.Holm(Raw).ShouldBe(expected, 1e-15);
    }

    [Fact]
    public void Benjamini_hochberg_matches_r_multtest()
    {
        double[] expected =
        [
            9.3171263061444454e-01, 8.9533672797500008e-01, 8.9533672797500008e-01, 9.6783382430900000e-01, 8.9533672797500008e-01,
            3.5419390544599999e-01, 5.2365677720800005e-04, 5.0683172199499998e-02, 1.4070253098999999e-03, 4.9959103598666670e-02,
        ];

        MultipleTesting.BenjaminiHochberg(Raw).ShouldBe(expected, 1e-15);
    }

    [Fact]
    public void Adjusted_p_values_never_fall_below_the_raw_ones()
    {
        var holm = MultipleTesting.Holm(Raw);
        var bh = MultipleTesting.BenjaminiHochberg(Raw);
        for (var i = 0; i < Raw.Length; i++)
        {
            holm[i].ShouldBeGreaterThanOrEqualTo(bh[i]);
            bh[i].ShouldBeGreaterThanOrEqualTo(Raw[i]);
        }
    }

    [Fact]
    public void Values_outside_0_1_are_refused()
    {
        Should.Throw<ArgumentException>(() => MultipleTesting.Holm([0.1, 1.5])).Message.ShouldBe("p-value 2 is 1.5; p-values lie between 0 and 1.");
    }
}
