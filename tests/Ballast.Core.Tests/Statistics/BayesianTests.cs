using Ballast.Statistics;
using MathNet.Numerics;

namespace Ballast.Tests.Statistics;

public sealed class BayesianTests
{
    private const double FiveDecimals = 5.1e-6;

    /// <summary>
    /// GrowthBook gbstats packages/stats/tests/bayesian/test_tests.py, TestBinom.test_bayesian_binomial_ab_test
    /// (EffectBayesianABTest, improper flat prior, relative): 49/100 vs 51/100 → expected 0.04082,
    /// ci [−0.24779, 0.32943], stddev 0.14725, chance to win 0.60918, risk [0.0814, 0.04058]; rounded to 5 decimals.
    /// </summary>
    [Fact]
    public void Gaussian_engine_matches_growthbook_for_proportions()
    {
        var result = GaussianBayesianTest.Analyze(SampleSummary.FromProportion(49, 100), SampleSummary.FromProportion(51, 100));

        result.ChanceToWin.ShouldBe(0.60918, FiveDecimals);
        result.Expected.ShouldBe(0.04082, FiveDecimals);
        result.StandardDeviation.ShouldBe(0.14725, FiveDecimals);
        result.Lower.ShouldBe(-0.24779, FiveDecimals);
        result.Upper.ShouldBe(0.32943, FiveDecimals);
        result.ExpectedLossControl.ShouldBe(0.0814, FiveDecimals);
        result.ExpectedLossTreatment.ShouldBe(0.04058, FiveDecimals);
    }

    /// <summary>
    /// Same file, TestNorm: SampleMeanStatistic(sum 100, sum_squares 1002.25, n 10) vs (105, 1111.5, 10) → expected 0.05,
    /// stddev 0.03572, chance to win 0.91923, risk [0.05131, 0.00131]; with the proper prior N(0.1, 0.1) → expected 0.05063,
    /// ci [−0.01893, 0.12019], stddev 0.03549, chance to win 0.92315, risk [0.05186, 0.00123].
    /// </summary>
    [Fact]
    public void Gaussian_engine_matches_growthbook_for_means_with_and_without_a_prior()
    {
        var (a, b) = (SampleSummary.FromSums(10, 100, 1002.25), SampleSummary.FromSums(10, 105, 1111.5));

        var flat = GaussianBayesianTest.Analyze(a, b);
        flat.Expected.ShouldBe(0.05, FiveDecimals);
        flat.StandardDeviation.ShouldBe(0.03572, FiveDecimals);
        flat.ChanceToWin.ShouldBe(0.91923, FiveDecimals);
        flat.ExpectedLossControl.ShouldBe(0.05131, FiveDecimals);
        flat.ExpectedLossTreatment.ShouldBe(0.00131, FiveDecimals);

        var informed = GaussianBayesianTest.Analyze(a, b, prior: new GaussianPrior(0.1, 0.1));
        informed.Expected.ShouldBe(0.05063, FiveDecimals);
        informed.StandardDeviation.ShouldBe(0.03549, FiveDecimals);
        informed.Lower.ShouldBe(-0.01893, FiveDecimals);
        informed.Upper.ShouldBe(0.12019, FiveDecimals);
        informed.ChanceToWin.ShouldBe(0.92315, FiveDecimals);
        informed.ExpectedLossControl.ShouldBe(0.05186, FiveDecimals);
        informed.ExpectedLossTreatment.ShouldBe(0.00123, FiveDecimals);
    }

    /// <summary>
    /// Exact Beta-binomial with a Beta(1, 1) prior. Chance to win: scipy 1.10.1 <c>integrate.quad</c> of
    /// beta(50, 52).pdf × beta(52, 50).sf = 0.6107705226878392. Expected losses: GrowthBook gbstats'
    /// earlier tests/bayesian/test_main.py, <c>binomial_ab_test(49, 100, 51, 100)</c> risk [0.03872, 0.01912]
    /// (5 decimals); full precision from scipy <c>dblquad</c>: 0.038724304339344144, 0.019116461202089256.
    /// </summary>
    [Fact]
    public void Beta_binomial_chance_to_win_and_expected_loss_are_exact()
    {
        var result = BetaBinomialTest.Analyze(49, 100, 51, 100);

        result.ChanceToWin.ShouldBe(0.6107705226878392, 1e-10);
        result.ExpectedLossControl.ShouldBe(0.03872, FiveDecimals);
        result.ExpectedLossTreatment.ShouldBe(0.01912, FiveDecimals);
        result.ExpectedLossControl.ShouldBe(0.038724304339344144, 1e-10);
        result.ExpectedLossTreatment.ShouldBe(0.019116461202089256, 1e-10);
    }

    /// <summary>scipy 1.10.1 (quad and dblquad as above) for 120/1000 vs 140/1000: 0.9078725863702234, 0.020606268897862733, 0.0006461890575433979.</summary>
    [Fact]
    public void Beta_binomial_matches_scipy_integration_for_a_larger_test()
    {
        var result = BetaBinomialTest.Analyze(120, 1000, 140, 1000);

        result.ChanceToWin.ShouldBe(0.9078725863702234, 1e-10);
        result.ExpectedLossControl.ShouldBe(0.020606268897862733, 1e-10);
        result.ExpectedLossTreatment.ShouldBe(0.0006461890575433979, 1e-10);
    }

    /// <summary>
    /// Evan Miller, "Formulas for Bayesian A/B Testing" (2015), the closed form for integer parameters. To 1e-8: at a
    /// million trials the log-beta terms of the closed form carry about 1e-9 of rounding themselves (scipy's quad gives
    /// 0.9639776098 there, between the two).
    /// </summary>
    [Theory]
    [InlineData(49, 100, 51, 100)]
    [InlineData(3, 20, 9, 25)]
    [InlineData(1200, 10_000, 1260, 10_000)]
    [InlineData(40_000, 1_000_000, 40_500, 1_000_000)]
    public void Beta_binomial_chance_to_win_equals_evan_millers_closed_form(int controlSuccesses, int controlTrials, int treatmentSuccesses, int treatmentTrials)
    {
        var (alphaA, betaA) = (1.0 + controlSuccesses, 1.0 + controlTrials - controlSuccesses);
        var (alphaB, betaB) = (1.0 + treatmentSuccesses, 1.0 + treatmentTrials - treatmentSuccesses);
        double closedForm = 0;
        for (var i = 0; i < alphaB; i++)
        {
            closedForm += Math.Exp(SpecialFunctions.BetaLn(alphaA + i, betaA + betaB) - Math.Log(betaB + i)
                                   - SpecialFunctions.BetaLn(1 + i, betaB) - SpecialFunctions.BetaLn(alphaA, betaA));
        }

        BetaBinomialTest.Analyze(controlSuccesses, controlTrials, treatmentSuccesses, treatmentTrials).ChanceToWin.ShouldBe(closedForm, 1e-8);
    }

    [Fact]
    public void Identical_groups_are_a_coin_flip_with_equal_losses()
    {
        var result = BetaBinomialTest.Analyze(30, 500, 30, 500);

        result.ChanceToWin.ShouldBe(0.5, 1e-10);
        result.ExpectedLossControl.ShouldBe(result.ExpectedLossTreatment, 1e-12);
    }
}
