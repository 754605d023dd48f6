namespace Ballast.Statistics;

/// <summary>A normal prior on the effect (on the scale of the comparison: relative lift or absolute difference).</summary>
public sealed record GaussianPrior(double Mean, double Variance);

/// <summary>
/// GrowthBook's Bayesian engine (<c>EffectBayesianABTest</c>): the delta-method effect and its standard error
/// (<see cref="EffectEstimate"/>) form a normal likelihood; with a normal prior the posterior is normal with
/// precision 1/se² + 1/τ² and mean (estimate/se² + μ₀/τ²)/precision, and with none (GrowthBook's default, an
/// improper flat prior) it is N(estimate, se²). Chance to win is Φ(m/s); the expected losses are
/// s φ(m/s) − m Φ(−m/s) for the treatment and that plus m for the control. Works for proportions and means alike;
/// for rates with few conversions prefer <see cref="BetaBinomialTest"/>.
/// </summary>
public static class GaussianBayesianTest
{
    public static BayesianEffectResult Analyze(
        SampleSummary control,
        SampleSummary treatment,
        DifferenceType type = DifferenceType.Relative,
        GaussianPrior? prior = null,
        double alpha = StatisticsDefaults.Alpha)
    {
        StatisticsDefaults.CheckAlpha(alpha);
        var effect = EffectEstimate.Between(control, treatment, type);
        effect.EnsurePositiveVariance();
        var (mean, variance) = (effect.Estimate, effect.Variance);
        if (prior is not null)
        {
            if (!(prior.Variance > 0))
            {
                throw new ArgumentException($"the prior's variance must be positive (got {prior.Variance}).");
            }

            var precision = 1 / variance + 1 / prior.Variance;
            mean = (mean / variance + prior.Mean / prior.Variance) / precision;
            variance = 1 / precision;
        }

        var sd = Math.Sqrt(variance);
        var z = mean / sd;
        var lossTreatment = sd * Distributions.NormalPdf(z) - mean * Distributions.NormalCdf(-z);
        var halfWidth = Distributions.NormalQuantile(1 - alpha / 2) * sd;
        return new BayesianEffectResult(type, mean, sd, mean - halfWidth, mean + halfWidth,
            Distributions.NormalCdf(z), mean + lossTreatment, lossTreatment);
    }
}
