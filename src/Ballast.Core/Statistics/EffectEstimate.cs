namespace Ballast.Statistics;

/// <summary>
/// A point estimate of the treatment effect and its standard error, by the delta method for relative lifts:
/// lift = (μt − μc)/μc, Var ≈ σt²/(μc² nt) + σc² μt²/(μc⁴ nc). The moments GrowthBook's gbstats uses
/// (<c>frequentist_diff</c>, <c>frequentist_variance</c> with no covariance between groups).
/// </summary>
public readonly record struct EffectEstimate(double Estimate, double StandardError)
{
    public double Variance => StandardError * StandardError;

    public static EffectEstimate Between(SampleSummary control, SampleSummary treatment, DifferenceType type)
    {
        if (control.Count < 1 || treatment.Count < 1)
        {
            throw new ArgumentException($"both groups need data (control has {control.Count}, treatment {treatment.Count}).");
        }

        var (vc, vt) = (control.MeanVariance, treatment.MeanVariance);
        if (type == DifferenceType.Absolute)
        {
            return new EffectEstimate(treatment.Mean - control.Mean, Math.Sqrt(vc + vt));
        }

        var mc = control.Mean;
        if (mc == 0)
        {
            throw new ArgumentException("the control mean is 0, so a relative lift is undefined; compare absolute differences instead.");
        }

        var variance = vt / (mc * mc) + vc * treatment.Mean * treatment.Mean / (mc * mc * mc * mc);
        return new EffectEstimate((treatment.Mean - mc) / mc, Math.Sqrt(variance));
    }

    internal void EnsurePositiveVariance()
    {
        if (!(StandardError > 0))
        {
            throw new ArgumentException("both groups have zero variance, so the effect has no standard error.");
        }
    }
}
