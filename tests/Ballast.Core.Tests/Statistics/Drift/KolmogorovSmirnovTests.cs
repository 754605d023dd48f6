using Ballast.Statistics.Drift;

namespace Ballast.Tests.Statistics.Drift;

public sealed class KolmogorovSmirnovTests
{
    private static readonly double[] Repeated = [.. Enumerable.Repeat(2.0, 3), .. Enumerable.Repeat(3.0, 4), .. Enumerable.Repeat(5.0, 5), .. Enumerable.Repeat(6.0, 4)];

    /// <summary>scipy 1.10.1 test_stats.py TestKSTwoSamples.testRepeatedValues: x2233 vs x2233 + 1, two-sided, exact.</summary>
    [Fact]
    public void Repeated_values_match_scipy_exactly()
    {
        var result = KolmogorovSmirnovTest.TwoSample(Repeated, Repeated.Select(x => x + 1).ToArray());

        result.Statistic.ShouldBe(0.3125, 1e-12);
        result.PValue.ShouldBe(0.4262934613454952, 1e-6);
        result.Method.ShouldBe(KsMethod.Exact);
    }

    /// <summary>scipy 1.10.1 TestKSTwoSamples: testRepeatedValues (x2356 vs x3467), testTwoVsFour and test100_110.</summary>
    [Theory]
    [InlineData("2356-3467", 190.0 / 21 / 26, 0.0919245790168125)]
    [InlineData("2vs4", 2.0 / 4, 14.0 / 15)]
    [InlineData("100-110", 232.0 / 1100, 0.015739183865607353)]
    public void Unequal_sizes_use_the_exact_lattice_path_count(string name, double statistic, double p)
    {
        var (a, b) = name switch
        {
            "2356-3467" => (Repeat((2, 3), (3, 4), (5, 10), (6, 4)), Repeat((3, 10), (4, 2), (6, 10), (7, 4))),
            "2vs4" => (new[] { 1.01, 2.01 }, new[] { 1.0, 2, 3, 4 }),
            _ => (Linspace(1, 100, 100), Linspace(1, 100, 110).Select(x => x + 20 + 0.1).ToArray()),
        };

        var result = KolmogorovSmirnovTest.TwoSample(a, b);

        result.Statistic.ShouldBe(statistic, 1e-12);
        result.PValue.ShouldBe(p, 1e-9);
    }

    /// <summary>
    /// scipy 1.10.1 TestKSTwoSamples.testLarge (10,000 vs 110, exact; the test file keeps an older 4.2e-15 and checks
    /// it to 6 decimals only, scipy 1.10.1 itself returns p = 6.263465662260858e-26) and testLargeBoth (10,000 vs
    /// 11,000: above the exact limit, asymptotic kstwo.sf, p = 0.9990660108966576).
    /// </summary>
    [Fact]
    public void Large_samples_switch_to_the_asymptotic_distribution_above_10000()
    {
        const double delta = 1.0 / 10_000 / 110 / 2 / 2;
        var large = KolmogorovSmirnovTest.TwoSample(Linspace(1, 200, 10_000).Select(x => x - delta).ToArray(), Linspace(2, 100, 110));
        large.Statistic.ShouldBe(55275.0 / 110_000, 1e-12);
        large.PValue.ShouldBe(6.263465662260858e-26, 1e-33);
        large.Method.ShouldBe(KsMethod.Exact);

        const double deltaBoth = 1.0 / 10_000 / 11_000 / 2 / 2;
        var both = KolmogorovSmirnovTest.TwoSample(Linspace(1, 200, 10_000).Select(x => x - deltaBoth).ToArray(), Linspace(2, 200, 11_000));
        both.Statistic.ShouldBe(563.0 / 110_000, 1e-12);
        both.PValue.ShouldBe(0.9990660108966576, 1e-9);
        both.Method.ShouldBe(KsMethod.Asymptotic);
    }

    /// <summary>
    /// <c>scipy.stats.kstwo.sf(x, n)</c> from scipy 1.10.1 across its algorithms: Durbin matrix (n = 100, x = 0.05),
    /// Pomeranz (n = 100, x = 0.15), twice Smirnov (n = 90909, x = 0.01), Pelz–Good (n = 250000, x = 0.002).
    /// </summary>
    [Theory]
    [InlineData(100, 0.05, 0.9532159710635725)]
    [InlineData(100, 0.15, 0.019839242125643017)]
    [InlineData(90909, 0.01, 2.5218718824770485e-08)]
    [InlineData(250000, 0.002, 0.26964259864783624)]
    public void The_one_sample_distribution_matches_scipy_kstwo(int n, double x, double p)
    {
        KolmogorovDistribution.TwoSidedSurvival(n, x).ShouldBe(p, p * 1e-8);
    }

    [Fact]
    public void Identical_samples_have_no_distance_and_p_1()
    {
        var result = KolmogorovSmirnovTest.TwoSample([1, 2, 3], [3, 2, 1]);

        result.Statistic.ShouldBe(0);
        result.PValue.ShouldBe(1);
    }

    [Fact]
    public void Empty_samples_and_missing_values_are_refused()
    {
        Should.Throw<ArgumentException>(() => KolmogorovSmirnovTest.TwoSample([], [1])).Message.ShouldContain("at least 1 value");
        Should.Throw<ArgumentException>(() => KolmogorovSmirnovTest.TwoSample([double.NaN], [1])).Message.ShouldContain("NaN");
    }

    internal static double[] Linspace(double start, double stop, int count) =>
        Enumerable.Range(0, count).Select(k => k == count - 1 ? stop : start + (k * ((stop - start) / (count - 1)))).ToArray();

    private static double[] Repeat(params (double Value, int Times)[] runs) => runs.SelectMany(run => Enumerable.Repeat(run.Value, run.Times)).ToArray();
}
