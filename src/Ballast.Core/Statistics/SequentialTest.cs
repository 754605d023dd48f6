namespace Ballast.Statistics;

/// <summary>
/// Always-valid inference for A/B tests that are looked at continuously: GrowthBook's <c>SequentialTwoSidedTTest</c>,
/// the asymptotic confidence sequences of Waudby-Smith et al. (2023, arXiv:2103.06476, eq. 9 and 155).
/// With n = nc + nt and per-unit variance s² = se² n, the interval is estimate ± s √(2(nρ² + 1) ln(√(nρ² + 1)/α) / (nρ)²),
/// ρ = √((−2 ln α + ln(−2 ln α + 1)) / N*). The chance that the interval ever excludes the true effect, however
/// often it is checked, stays below α. N* tunes where it is narrowest (<see cref="StatisticsDefaults.SequentialTuning"/>).
/// </summary>
public static class SequentialTest
{
    public static EffectResult TwoSided(
        SampleSummary control,
        SampleSummary treatment,
        DifferenceType type = DifferenceType.Relative,
        double alpha = StatisticsDefaults.Alpha,
        double tuning = StatisticsDefaults.SequentialTuning)
    {
        StatisticsDefaults.CheckAlpha(alpha);
        if (!(tuning > 0))
        {
            throw new ArgumentException($"the sequential tuning parameter N* must be positive (got {tuning}).");
        }

        var effect = EffectEstimate.Between(control, treatment, type);
        effect.EnsurePositiveVariance();
        var n = (double)(control.Count + treatment.Count);
        var rho = Rho(alpha, tuning);
        var nRho2 = n * rho * rho;
        var perUnitDeviation = effect.StandardError * Math.Sqrt(n);
        var halfWidth = perUnitDeviation * Math.Sqrt(2 * (nRho2 + 1) * Math.Log(Math.Sqrt(nRho2 + 1) / alpha) / (n * rho * n * rho));
        return new EffectResult(type, effect.Estimate, effect.StandardError, effect.Estimate - halfWidth, effect.Estimate + halfWidth, PValue(effect, n, rho));
    }

    /// <summary>The mixing parameter ρ for tuning N* (eq. 161, two-sided).</summary>
    public static double Rho(double alpha, double tuning)
    {
        var twoLog = -2 * Math.Log(alpha);
        return Math.Sqrt((twoLog + Math.Log(twoLog + 1)) / tuning);
    }

    /// <summary>The always-valid p-value, 1 / e-value capped at 1 (eq. 155): the smallest α whose sequence excludes 0.</summary>
    private static double PValue(EffectEstimate effect, double n, double rho)
    {
        var z2 = effect.Estimate * effect.Estimate / effect.Variance;
        var nRho2Plus1 = n * rho * rho + 1;
        var logEvidence = rho * rho * n * z2 / (2 * nRho2Plus1) - 0.5 * Math.Log(nRho2Plus1);
        return Math.Min(1, Math.Exp(-logEvidence));
    }
}
