namespace Ballast.Statistics;

/// <summary>The rates planned for, the exact solution of the power equation and the units needed per variant (rounded up).</summary>
public sealed record ProportionSampleSize(double Baseline, double Treatment, double Exact, long PerVariant);

/// <summary>How many units each variant needs before an experiment starts.</summary>
public static class SampleSize
{
    /// <summary>
    /// Units per variant for a two-sided two-proportion z-test to detect a change from <paramref name="baseline"/> by
    /// <paramref name="minimumDetectableEffect"/> (absolute, 0.02 = two points, or relative, 0.2 = 20 % of the baseline)
    /// with the given power. The standard normal-approximation formula (Fleiss, Levin &amp; Paik, <i>Statistical Methods
    /// for Rates and Proportions</i>, without continuity correction; what R's <c>power.prop.test</c> solves):
    /// n = (z_(1−α/2) √(2 p̄ q̄) + z_power √(p₁q₁ + p₂q₂))² / (p₂ − p₁)², p̄ = (p₁ + p₂)/2.
    /// </summary>
    public static ProportionSampleSize TwoProportions(
        double baseline,
        double minimumDetectableEffect,
        bool relative = false,
        double alpha = StatisticsDefaults.Alpha,
        double power = StatisticsDefaults.Power)
    {
        PowerAnalysis.CheckRate(baseline, "the baseline");
        StatisticsDefaults.CheckAlpha(alpha);
        StatisticsDefaults.CheckAlpha(power, "power");
        if (minimumDetectableEffect == 0 || !double.IsFinite(minimumDetectableEffect))
        {
            throw new ArgumentException($"the minimum detectable effect must be a non-zero number (got {minimumDetectableEffect}).");
        }

        var treatment = relative ? baseline * (1 + minimumDetectableEffect) : baseline + minimumDetectableEffect;
        if (!(treatment > 0 && treatment < 1))
        {
            throw new ArgumentException($"the baseline {baseline} changed by {minimumDetectableEffect}{(relative ? " (relative)" : "")} is {treatment}, outside (0, 1); choose a smaller effect.");
        }

        var pooled = (baseline + treatment) / 2;
        var root = Distributions.NormalQuantile(1 - alpha / 2) * Math.Sqrt(2 * pooled * (1 - pooled))
                   + Distributions.NormalQuantile(power) * Math.Sqrt(baseline * (1 - baseline) + treatment * (1 - treatment));
        var exact = root * root / ((treatment - baseline) * (treatment - baseline));
        return new ProportionSampleSize(baseline, treatment, exact, (long)Math.Ceiling(exact - 1e-9));
    }
}
