using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

/// <summary>
/// Known answers from GrowthBook's gbstats (packages/stats/tests/frequentist/test_tests.py, the version with
/// SampleMeanStatistic, ProportionStatistic and SequentialConfig). gbstats rounds every value to 5 decimals before
/// comparing, so these hold to within half a unit in the fifth decimal.
/// </summary>
public sealed class GrowthBookFrequentistTests
{
    private const double FiveDecimals = 5.1e-6;

    private static readonly SampleSummary MeansA = SampleSummary.FromSums(3407, 1396.87, 52377.9767);
    private static readonly SampleSummary MeansB = SampleSummary.FromSums(3461, 2422.7, 134698.29);

    /// <summary>test_two_sided_ttest: expected (0.7 − 0.41)/0.41 = 0.70732, ci [−0.03526, 1.44989], stddev 0.37879, p 0.06191.</summary>
    [Fact]
    public void Relative_lift_of_sample_means_has_a_delta_method_interval()
    {
        var result = FrequentistTest.TwoSided(MeansA, MeansB);

        result.Estimate.ShouldBe(0.70732, FiveDecimals);
        result.StandardError.ShouldBe(0.37879, FiveDecimals);
        result.Lower.ShouldBe(-0.03526, FiveDecimals);
        result.Upper.ShouldBe(1.44989, FiveDecimals);
        result.PValue.ShouldBe(0.06191, FiveDecimals);
        result.IsSignificant.ShouldBeFalse();
    }

    /// <summary>test_two_sided_ttest_absolute: expected 0.29, ci [0.04538, 0.53462], stddev 0.12478, p 0.02016.</summary>
    [Fact]
    public void Absolute_difference_of_sample_means_is_a_welch_interval()
    {
        var result = FrequentistTest.TwoSided(MeansA, MeansB, DifferenceType.Absolute);

        result.Estimate.ShouldBe(0.29, FiveDecimals);
        result.StandardError.ShouldBe(0.12478, FiveDecimals);
        result.Lower.ShouldBe(0.04538, FiveDecimals);
        result.Upper.ShouldBe(0.53462, FiveDecimals);
        result.PValue.ShouldBe(0.02016, FiveDecimals);
        result.IsSignificant.ShouldBeTrue();
    }

    /// <summary>test_two_sided_ttest_binom: 14/28 vs 16/30, expected 0.06667, ci [−0.47767, 0.61101], stddev 0.2717, p 0.80707.</summary>
    [Fact]
    public void Proportions_use_the_bernoulli_variance()
    {
        var result = FrequentistTest.TwoSided(SampleSummary.FromProportion(14, 28), SampleSummary.FromProportion(16, 30));

        result.Estimate.ShouldBe(0.06667, FiveDecimals);
        result.StandardError.ShouldBe(0.2717, FiveDecimals);
        result.Lower.ShouldBe(-0.47767, FiveDecimals);
        result.Upper.ShouldBe(0.61101, FiveDecimals);
        result.PValue.ShouldBe(0.80707, FiveDecimals);
    }

    /// <summary>test_sequential_test_runs_prop: 1396/3000 vs 2422/3461, N* = 5000: 0.50386, ci [0.40098, 0.60675], stddev 0.03386, p 0.0.</summary>
    [Fact]
    public void Sequential_interval_for_proportions_with_the_default_tuning()
    {
        var result = SequentialTest.TwoSided(SampleSummary.FromProportion(1396, 3000), SampleSummary.FromProportion(2422, 3461));

        result.Estimate.ShouldBe(0.50386, FiveDecimals);
        result.StandardError.ShouldBe(0.03386, FiveDecimals);
        result.Lower.ShouldBe(0.40098, FiveDecimals);
        result.Upper.ShouldBe(0.60675, FiveDecimals);
        result.PValue.ShouldBe(0.0, FiveDecimals);
    }

    /// <summary>test_sequential_test_runs: sums as above with n 3000 and 3461, N* = 1000: 0.50336, ci [−0.55844, 1.56516], stddev 0.33341, p 1.</summary>
    [Fact]
    public void Sequential_interval_for_means_with_a_small_tuning()
    {
        var result = SequentialTest.TwoSided(SampleSummary.FromSums(3000, 1396.87, 52377.9767), MeansB, tuning: 1000);

        result.Estimate.ShouldBe(0.50336, FiveDecimals);
        result.StandardError.ShouldBe(0.33341, FiveDecimals);
        result.Lower.ShouldBe(-0.55844, FiveDecimals);
        result.Upper.ShouldBe(1.56516, FiveDecimals);
        result.PValue.ShouldBe(1.0);
    }

    /// <summary>test_sequential_test_tuning_as_expected: the interval is narrowest when N* is near the sample size (6461).</summary>
    [Fact]
    public void Sequential_interval_is_narrowest_when_tuned_to_the_sample_size()
    {
        var a = SampleSummary.FromSums(3000, 1396.87, 52377.9767);
        double Width(double tuning)
        {
            var result = SequentialTest.TwoSided(a, MeansB, tuning: tuning);
            return result.Upper - result.Lower;
        }

        Width(6461).ShouldBeLessThan(Width(10));
        Width(6461).ShouldBeLessThan(Width(10_000));
        Width(10_000).ShouldBeLessThan(Width(10));
    }

    [Fact]
    public void Sequential_interval_is_wider_than_the_fixed_horizon_one()
    {
        var (a, b) = (SampleSummary.FromProportion(1396, 3000), SampleSummary.FromProportion(2422, 3461));
        var (fixedHorizon, sequential) = (FrequentistTest.TwoSided(a, b), SequentialTest.TwoSided(a, b));

        sequential.Estimate.ShouldBe(fixedHorizon.Estimate);
        (sequential.Upper - sequential.Lower).ShouldBeGreaterThan(fixedHorizon.Upper - fixedHorizon.Lower);
    }

    [Fact]
    public void Bad_inputs_are_refused_plainly()
    {
        Should.Throw<ArgumentException>(() => FrequentistTest.TwoSided(MeansA, MeansB, alpha: 1)).Message.ShouldBe("alpha must be between 0 and 1 exclusive (got 1).");
        Should.Throw<ArgumentException>(() => FrequentistTest.TwoSided(SampleSummary.FromProportion(0, 100), SampleSummary.FromProportion(3, 100)))
            .Message.ShouldContain("control mean is 0");
        Should.Throw<ArgumentException>(() => SequentialTest.TwoSided(MeansA, MeansB, tuning: 0)).Message.ShouldContain("N* must be positive");
    }
}
