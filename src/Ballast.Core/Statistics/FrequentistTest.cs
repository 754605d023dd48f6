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
        var degreesOfFreedom = control.Variance > 0 && treatment.Variance > 0 ? WelchTTest.WelchSatterthwaite(control, treatment) : 1;
        var halfWidth = Distributions.TQuantile(1 - alpha / 2, degreesOfFreedom) * effect.StandardError;
        var p = Distributions.TwoSidedT(effect.Estimate / effect.StandardError, degreesOfFreedom);
        return new EffectResult(type, effect.Estimate, effect.StandardError, effect.Estimate - halfWidth, effect.Estimate + halfWidth, p);
    }
}
