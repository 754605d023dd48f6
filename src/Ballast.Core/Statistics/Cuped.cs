namespace Ballast.Statistics;

/// <summary>
/// The CUPED coefficient θ, the adjusted summaries of both groups (ready for any test here) and the share of
/// variance removed, 1 − Var(adjusted)/Var(raw) over all units.
/// </summary>
public sealed record CupedResult(double Theta, SampleSummary Control, SampleSummary Treatment, double VarianceReduction);

/// <summary>One group's sums for CUPED: units n, ΣY, ΣY² of the metric, ΣX, ΣX² of the pre-period covariate, and ΣXY.</summary>
public readonly record struct CupedSums(long Count, double SumY, double SumY2, double SumX, double SumX2, double SumXY);

/// <summary>CUPED over several groups from their sums: pooled θ and E[X], each group's adjusted summary, the pooled variance reduction.</summary>
public sealed record CupedAdjustment(double Theta, double CovariateMean, IReadOnlyList<SampleSummary> Groups, double VarianceReduction);

/// <summary>
/// CUPED (Deng, Xu, Kohavi &amp; Walker, "Improving the Sensitivity of Online Controlled Experiments by Utilizing
/// Pre-Experiment Data", WSDM 2013): with X a pre-experiment covariate of the metric Y, each unit's
/// Y − θ(X − E[X]) has the same expectation and variance Var(Y)(1 − ρ²) when θ = Cov(Y, X)/Var(X). θ and E[X] are
/// pooled over both groups so the adjustment is the same for each and the difference of means stays unbiased.
/// </summary>
public static class Cuped
{
    /// <summary>θ = Cov(Y, X) / Var(X) on paired values.</summary>
    public static double Theta(ReadOnlySpan<double> metric, ReadOnlySpan<double> covariate)
    {
        var moments = Moments.Of(metric, covariate);
        return moments.Theta;
    }

    /// <summary>Summary of Y − θ(X − <paramref name="covariateMean"/>): mean Ȳ − θ(X̄ − μ), variance Var(Y) − 2θCov + θ²Var(X).</summary>
    public static SampleSummary Adjust(ReadOnlySpan<double> metric, ReadOnlySpan<double> covariate, double theta, double covariateMean)
    {
        var m = Moments.Of(metric, covariate);
        var variance = Math.Max(0, m.VarianceY - 2 * theta * m.Covariance + theta * theta * m.VarianceX);
        return new SampleSummary(m.Count, m.MeanY - theta * (m.MeanX - covariateMean), variance);
    }

    /// <summary>Adjust both groups with θ and E[X] pooled over all units.</summary>
    public static CupedResult Analyze(
        ReadOnlySpan<double> controlMetric,
        ReadOnlySpan<double> controlCovariate,
        ReadOnlySpan<double> treatmentMetric,
        ReadOnlySpan<double> treatmentCovariate)
    {
        if (controlMetric.Length != controlCovariate.Length || treatmentMetric.Length != treatmentCovariate.Length)
        {
            throw new ArgumentException("each group needs one covariate value per unit: "
                + $"control has {controlMetric.Length} and {controlCovariate.Length}, treatment {treatmentMetric.Length} and {treatmentCovariate.Length}.");
        }

        var metric = new double[controlMetric.Length + treatmentMetric.Length];
        var covariate = new double[metric.Length];
        controlMetric.CopyTo(metric);
        treatmentMetric.CopyTo(metric.AsSpan(controlMetric.Length));
        controlCovariate.CopyTo(covariate);
        treatmentCovariate.CopyTo(covariate.AsSpan(controlCovariate.Length));

        var pooled = Moments.Of(metric, covariate);
        var control = Adjust(controlMetric, controlCovariate, pooled.Theta, pooled.MeanX);
        var treatment = Adjust(treatmentMetric, treatmentCovariate, pooled.Theta, pooled.MeanX);
        var adjustedVariance = pooled.VarianceY - 2 * pooled.Theta * pooled.Covariance + pooled.Theta * pooled.Theta * pooled.VarianceX;
        return new CupedResult(pooled.Theta, control, treatment, pooled.VarianceY > 0 ? 1 - adjustedVariance / pooled.VarianceY : 0);
    }

    /// <summary>
    /// CUPED from the sums a SQL query returns per group (n, ΣY, ΣY², ΣX, ΣX², ΣXY): θ and E[X] pooled over every group,
    /// each group's adjusted summary (mean Ȳ − θ(X̄ − μ), variance Var(Y) − 2θCov(Y, X) + θ²Var(X)), and the pooled
    /// share of variance removed. The same numbers as <see cref="Analyze"/> on the raw values.
    /// </summary>
    public static CupedAdjustment FromSums(IReadOnlyList<CupedSums> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var all = new CupedSums(groups.Sum(g => g.Count), groups.Sum(g => g.SumY), groups.Sum(g => g.SumY2), groups.Sum(g => g.SumX), groups.Sum(g => g.SumX2), groups.Sum(g => g.SumXY));
        if (all.Count < 2)
        {
            throw new ArgumentException($"CUPED needs at least 2 units (got {all.Count}).");
        }

        var pooled = Moments.Of(all);
        var adjusted = groups.Select(group =>
        {
            if (group.Count == 0)
            {
                return new SampleSummary(0, 0, 0);
            }

            var m = Moments.Of(group);
            var variance = group.Count > 1 ? Math.Max(0, m.VarianceY - 2 * pooled.Theta * m.Covariance + pooled.Theta * pooled.Theta * m.VarianceX) : 0;
            return new SampleSummary(group.Count, m.MeanY - pooled.Theta * (m.MeanX - pooled.MeanX), variance);
        }).ToList();
        var adjustedVariance = pooled.VarianceY - 2 * pooled.Theta * pooled.Covariance + pooled.Theta * pooled.Theta * pooled.VarianceX;
        return new CupedAdjustment(pooled.Theta, pooled.MeanX, adjusted, pooled.VarianceY > 0 ? 1 - adjustedVariance / pooled.VarianceY : 0);
    }

    /// <summary>Means, n − 1 variances and covariance in one pass (Welford's co-moment update).</summary>
    private readonly record struct Moments(long Count, double MeanY, double MeanX, double VarianceY, double VarianceX, double Covariance)
    {
        public double Theta => VarianceX > 0 ? Covariance / VarianceX : 0;

        public static Moments Of(ReadOnlySpan<double> y, ReadOnlySpan<double> x)
        {
            if (y.Length != x.Length)
            {
                throw new ArgumentException($"the metric has {y.Length} values but the covariate {x.Length}; CUPED needs one covariate value per unit.");
            }

            if (y.Length < 2)
            {
                throw new ArgumentException($"CUPED needs at least 2 units (got {y.Length}).");
            }

            double meanY = 0, meanX = 0, squaresY = 0, squaresX = 0, coMoment = 0;
            for (var i = 0; i < y.Length; i++)
            {
                if (!double.IsFinite(y[i]) || !double.IsFinite(x[i]))
                {
                    throw new ArgumentException($"unit {i + 1} has a value that is not a finite number.");
                }

                var dy = y[i] - meanY;
                var dx = x[i] - meanX;
                meanY += dy / (i + 1);
                meanX += dx / (i + 1);
                squaresY += dy * (y[i] - meanY);
                squaresX += dx * (x[i] - meanX);
                coMoment += dx * (y[i] - meanY);
            }

            var n = y.Length - 1.0;
            return new Moments(y.Length, meanY, meanX, squaresY / n, squaresX / n, coMoment / n);
        }

        /// <summary>From sums: each central moment as (Σab − n ā b̄)/(n − 1), clamped at 0 for the variances.</summary>
        public static Moments Of(CupedSums sums)
        {
            var count = sums.Count;
            var meanY = sums.SumY / count;
            var meanX = sums.SumX / count;
            var n = Math.Max(1, count - 1.0);
            return new Moments(count, meanY, meanX, Math.Max(0, (sums.SumY2 - count * meanY * meanY) / n), Math.Max(0, (sums.SumX2 - count * meanX * meanX) / n),
                (sums.SumXY - count * meanX * meanY) / n);
        }
    }
}
