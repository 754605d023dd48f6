namespace Ballast.Statistics;

/// <summary>
/// The fixed-horizon frequentist analysis of an A/B test, as GrowthBook's <c>TwoSidedTTest</c>: the delta-method
/// effect (<see cref="EffectEstimate"/>), Welch–Satterthwaite degrees of freedom on the groups' variances,
/// p = 2(1 − F_t(|estimate/se|)) and interval estimate ± t_(1−α/2) se. Valid for one look at a sample size fixed
/// in advance; looking repeatedly inflates false positives (use <see cref="SequentialTest"/> for that).
/// </summary>
public static class FrequentistTest
{
    public static EffectResult TwoSided(SampleSummary control, SampleSummary treatment, DifferenceType type = DifferenceType.Relative, double alpha = StatisticsDefaults.Alpha)
    {
        StatisticsDefaults.CheckAlpha(alpha);
        if (control.Count < 2 || treatment.Count < 2)
        {
            throw new ArgumentException($"each group needs at least 2 units (control has {control.Count}, treatment {treatment.Count}).");
        }

        var effect = EffectEstimate.Between(control, treatment, type);
        effect.EnsurePositiveVariance();
        // Welch–Satterthwaite is defined when one group has no variance (it is then the other's n − 1; 0 of 148
        // converted against 60 of 500 is a certain difference, not one a t with 1 degree of freedom cannot tell).
        var degreesOfFreedom = WelchTTest.WelchSatterthwaite(control, treatment);
        var halfWidth = Distributions.TQuantile(1 - alpha / 2, degreesOfFreedom) * effect.StandardError;
        var p = Distributions.TwoSidedT(effect.Estimate / effect.StandardError, degreesOfFreedom);
        return new EffectResult(type, effect.Estimate, effect.StandardError, effect.Estimate - halfWidth, effect.Estimate + halfWidth, p);
    }
}
