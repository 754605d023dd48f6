namespace Ballast.Statistics;

/// <summary>
/// Power of two-sided two-sample tests: the probability of a significant result when the true effect is the one given.
/// Effect sizes are standardized (Cohen's d: difference of means over the common standard deviation, or Cohen's h
/// for proportions).
/// </summary>
public static class PowerAnalysis
{
    /// <summary>
    /// Power of the two-sample t-test with the noncentral t distribution, as statsmodels'
    /// <c>TTestIndPower().power(effect_size, nobs1, alpha, ratio)</c> and R's <c>pwr.t.test</c>: df = n₁ + n₂ − 2,
    /// noncentrality d √(n₁n₂/(n₁ + n₂)), power = P(T' &gt; t_(1−α/2)) + P(T' &lt; −t_(1−α/2)).
    /// </summary>
    public static double TwoSampleTTest(double effectSize, double nPerGroup, double alpha = StatisticsDefaults.Alpha, double ratio = 1)
    {
        var (n1, n2) = Groups(effectSize, nPerGroup, alpha, ratio, minimum: 2);
        var degreesOfFreedom = n1 + n2 - 2;
        var noncentrality = effectSize * Math.Sqrt(n1 * n2 / (n1 + n2));
        var critical = Distributions.TQuantile(1 - alpha / 2, degreesOfFreedom);
        // P(T' > c; δ) = P(T' < −c; −δ), computed as a lower tail so it keeps its precision.
        return NoncentralT.Cdf(-critical, degreesOfFreedom, -noncentrality) + NoncentralT.Cdf(-critical, degreesOfFreedom, noncentrality);
    }

    /// <summary>
    /// Power of the two-sample z-test (known variance, normal approximation), as statsmodels'
    /// <c>NormalIndPower().power(effect_size, nobs1, alpha, ratio)</c> and R's <c>pwr.2p.test</c> /
    /// <c>pwr.norm.test</c>: with m = d √(n₁n₂/(n₁ + n₂)), power = Φ(m − z_(1−α/2)) + Φ(−m − z_(1−α/2)).
    /// Slightly above the t-test's power for small samples; the two agree as n grows.
    /// </summary>
    public static double TwoSampleZTest(double effectSize, double nPerGroup, double alpha = StatisticsDefaults.Alpha, double ratio = 1)
    {
        var (n1, n2) = Groups(effectSize, nPerGroup, alpha, ratio, minimum: 1);
        var shift = effectSize * Math.Sqrt(n1 * n2 / (n1 + n2));
        var critical = Distributions.NormalQuantile(1 - alpha / 2);
        return Distributions.NormalCdf(shift - critical) + Distributions.NormalCdf(-shift - critical);
    }

    /// <summary>
    /// Power of the two-proportion z-test with n units per group, as R's <c>power.prop.test(n, p1, p2, sig.level)</c>:
    /// Φ((√n |p₁ − p₂| − z_(1−α/2) √((p₁ + p₂)(q₁ + q₂)/2)) / √(p₁q₁ + p₂q₂)).
    /// </summary>
    public static double TwoProportions(double nPerGroup, double p1, double p2, double alpha = StatisticsDefaults.Alpha)
    {
        StatisticsDefaults.CheckAlpha(alpha);
        CheckRate(p1, "p1");
        CheckRate(p2, "p2");
        if (!(nPerGroup >= 1))
        {
            throw new ArgumentException($"n per group must be at least 1 (got {nPerGroup}).");
        }

        var pooled = Math.Sqrt((p1 + p2) * (2 - p1 - p2) / 2);
        var separate = Math.Sqrt(p1 * (1 - p1) + p2 * (1 - p2));
        return Distributions.NormalCdf((Math.Sqrt(nPerGroup) * Math.Abs(p1 - p2) - Distributions.NormalQuantile(1 - alpha / 2) * pooled) / separate);
    }

    internal static void CheckRate(double rate, string name)
    {
        if (!(rate > 0 && rate < 1))
        {
            throw new ArgumentException($"{name} must be a rate between 0 and 1 exclusive (got {rate}).");
        }
    }

    private static (double N1, double N2) Groups(double effectSize, double nPerGroup, double alpha, double ratio, double minimum)
    {
        StatisticsDefaults.CheckAlpha(alpha);
        if (!double.IsFinite(effectSize))
        {
            throw new ArgumentException($"the effect size must be a finite number (got {effectSize}).");
        }

        if (!(nPerGroup >= minimum) || !double.IsFinite(nPerGroup))
        {
            throw new ArgumentException($"n per group must be at least {minimum} (got {nPerGroup}).");
        }

        if (!(ratio > 0) || !double.IsFinite(ratio))
        {
            throw new ArgumentException($"the ratio n2/n1 must be positive (got {ratio}).");
        }

        return (nPerGroup, nPerGroup * ratio);
    }
}
