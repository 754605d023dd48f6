namespace Ballast.Statistics;

/// <summary>
/// One group's sums for CUPED with several covariates: units n, ΣY and ΣY² of the metric, and for covariates i, j
/// ΣXᵢ, ΣXᵢY and ΣXᵢXⱼ (<see cref="SumXX"/> is the full symmetric k×k matrix).
/// </summary>
public sealed record CovariateSums(long Count, double SumY, double SumY2, double[] SumX, double[] SumXY, double[,] SumXX)
{
    public int Covariates => SumX.Length;

    /// <summary>The sums of paired values: <paramref name="metric"/>[u] and the covariates <paramref name="covariates"/>[u][i] of each unit u.</summary>
    public static CovariateSums Of(IReadOnlyList<double> metric, IReadOnlyList<IReadOnlyList<double>> covariates)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(covariates);
        if (metric.Count != covariates.Count)
        {
            throw new ArgumentException($"the metric has {metric.Count} values but the covariates {covariates.Count} rows; CUPED needs one row per unit.");
        }

        var k = covariates.Count > 0 ? covariates[0].Count : 0;
        double sumY = 0, sumY2 = 0;
        var sumX = new double[k];
        var sumXY = new double[k];
        var sumXX = new double[k, k];
        for (var u = 0; u < metric.Count; u++)
        {
            var y = metric[u];
            var x = covariates[u];
            if (x.Count != k)
            {
                throw new ArgumentException($"unit {u + 1} has {x.Count} covariates, not {k}.");
            }

            sumY += y;
            sumY2 += y * y;
            for (var i = 0; i < k; i++)
            {
                sumX[i] += x[i];
                sumXY[i] += x[i] * y;
                for (var j = 0; j < k; j++)
                {
                    sumXX[i, j] += x[i] * x[j];
                }
            }
        }

        return new CovariateSums(metric.Count, sumY, sumY2, sumX, sumXY, sumXX);
    }

    /// <summary>The sums of every group together.</summary>
    public static CovariateSums Pool(IReadOnlyList<CovariateSums> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0 || groups.Any(group => group.Covariates != groups[0].Covariates))
        {
            throw new ArgumentException("CUPED needs at least one group, each with the same covariates.");
        }

        var k = groups[0].Covariates;
        var sumX = new double[k];
        var sumXY = new double[k];
        var sumXX = new double[k, k];
        foreach (var group in groups)
        {
            for (var i = 0; i < k; i++)
            {
                sumX[i] += group.SumX[i];
                sumXY[i] += group.SumXY[i];
                for (var j = 0; j < k; j++)
                {
                    sumXX[i, j] += group.SumXX[i, j];
                }
            }
        }

        return new CovariateSums(groups.Sum(group => group.Count), groups.Sum(group => group.SumY), groups.Sum(group => group.SumY2), sumX, sumXY, sumXX);
    }
}

/// <summary>Whether a covariate takes part in the adjustment, or why it was left out (its θ is then 0).</summary>
public enum CovariateFit
{
    Used,

    /// <summary>The same value for every unit: it predicts nothing.</summary>
    NoVariance,

    /// <summary>The covariates before it (in the spec's order) already determine it: a linear combination of them.</summary>
    Collinear,
}

/// <summary>
/// CUPED with several covariates: the coefficients θ (one per covariate, 0 for one left out), the covariates' pooled
/// means E[X], which were used, each group's adjusted summary and the pooled share of variance removed.
/// </summary>
public sealed record CupedRegression(IReadOnlyList<double> Theta, IReadOnlyList<double> CovariateMeans, IReadOnlyList<CovariateFit> Fits, IReadOnlyList<SampleSummary> Groups,
    double VarianceReduction);

/// <summary>
/// Multivariate CUPED, that is regression adjustment (Deng, Xu, Kohavi &amp; Walker, WSDM 2013, section 3.3): each
/// unit's Y − θ'(X − E[X]) with θ = Σ_XX⁻¹ Σ_XY from the covariance matrix of the covariates and their covariances
/// with the metric, pooled over every group: the slopes of the least-squares fit of Y on the covariates with an
/// intercept. One covariate gives exactly <see cref="Cuped.FromSums"/>'s numbers.
/// </summary>
public static class CupedRegressions
{
    /// <summary>
    /// A covariate whose variance left after the ones before it is below this share of its own variance (R² above
    /// 1 − 1e-9 on them) is collinear: its coefficient would be noise amplified by a billion or more.
    /// </summary>
    public const double CollinearityTolerance = 1e-9;

    /// <summary>
    /// From the sums a SQL query returns per group: θ and E[X] pooled over every group, each group's adjusted summary
    /// (mean Ȳ − θ'(X̄ − μ), variance Var(Y) − 2θ'Cov(X, Y) + θ'Cov(X)θ) and 1 − Var(adjusted)/Var(Y) over all units.
    /// </summary>
    public static CupedRegression FromSums(IReadOnlyList<CovariateSums> groups)
    {
        var all = CovariateSums.Pool(groups);
        if (all.Count < 2)
        {
            throw new ArgumentException($"CUPED needs at least 2 units (got {all.Count}).");
        }

        var pooled = Moments.Of(all);
        var (theta, fits) = Solve(pooled.CovarianceXX, pooled.CovarianceXY);
        var adjusted = groups.Select(group =>
        {
            if (group.Count == 0)
            {
                return new SampleSummary(0, 0, 0);
            }

            var m = Moments.Of(group);
            double shift = 0;
            for (var i = 0; i < theta.Length; i++)
            {
                shift += theta[i] * (m.MeanX[i] - pooled.MeanX[i]);
            }

            return new SampleSummary(group.Count, m.MeanY - shift, group.Count > 1 ? Math.Max(0, m.AdjustedVariance(theta)) : 0);
        }).ToList();
        var adjustedVariance = pooled.AdjustedVariance(theta);
        return new CupedRegression(theta, pooled.MeanX, fits, adjusted, pooled.VarianceY > 0 ? 1 - adjustedVariance / pooled.VarianceY : 0);
    }

    /// <summary>
    /// θ = S⁻¹c for the covariance matrix S and covariances c, by the square-root-free Cholesky factorization S = LDL'
    /// taken in the covariates' order: a covariate without variance, or whose pivot (its variance left after the
    /// covariates before it) is below <see cref="CollinearityTolerance"/> of its variance, is left out with θ 0, so a
    /// singular matrix still gives finite coefficients. With one covariate θ = c/S, exactly.
    /// </summary>
    public static (double[] Theta, CovariateFit[] Fits) Solve(double[,] covariance, double[] covariances)
    {
        ArgumentNullException.ThrowIfNull(covariance);
        ArgumentNullException.ThrowIfNull(covariances);
        var k = covariances.Length;
        if (covariance.GetLength(0) != k || covariance.GetLength(1) != k)
        {
            throw new ArgumentException($"the covariance matrix is {covariance.GetLength(0)}×{covariance.GetLength(1)}, not {k}×{k}.");
        }

        var lower = new double[k, k];
        var pivots = new double[k];
        var fits = new CovariateFit[k];
        for (var j = 0; j < k; j++)
        {
            if (!(covariance[j, j] > 0) || !double.IsFinite(covariance[j, j]))
            {
                fits[j] = CovariateFit.NoVariance;
                continue;
            }

            for (var i = 0; i < j; i++)
            {
                if (fits[i] != CovariateFit.Used)
                {
                    continue;
                }

                double sum = 0;
                for (var m = 0; m < i; m++)
                {
                    sum += lower[j, m] * lower[i, m] * pivots[m];
                }

                lower[j, i] = (covariance[j, i] - sum) / pivots[i];
            }

            double explained = 0;
            for (var m = 0; m < j; m++)
            {
                explained += lower[j, m] * lower[j, m] * pivots[m];
            }

            var pivot = covariance[j, j] - explained;
            if (!(pivot > CollinearityTolerance * covariance[j, j]))
            {
                fits[j] = CovariateFit.Collinear;
                for (var m = 0; m < j; m++)
                {
                    lower[j, m] = 0;
                }

                continue;
            }

            pivots[j] = pivot;
        }

        // L z = c, then L' θ = D⁻¹ z, over the covariates used (the others' rows and columns of L are 0).
        var z = new double[k];
        for (var j = 0; j < k; j++)
        {
            if (fits[j] != CovariateFit.Used)
            {
                continue;
            }

            double sum = 0;
            for (var m = 0; m < j; m++)
            {
                sum += lower[j, m] * z[m];
            }

            z[j] = covariances[j] - sum;
        }

        var theta = new double[k];
        for (var j = k - 1; j >= 0; j--)
        {
            if (fits[j] != CovariateFit.Used)
            {
                continue;
            }

            double sum = 0;
            for (var m = j + 1; m < k; m++)
            {
                sum += lower[m, j] * theta[m];
            }

            theta[j] = z[j] / pivots[j] - sum;
        }

        return (theta, fits);
    }

    /// <summary>Means, and n − 1 variances and covariances, each as (Σab − n ā b̄)/(n − 1), the variances clamped at 0 (as <see cref="Cuped.FromSums"/> does).</summary>
    private sealed record Moments(long Count, double MeanY, double[] MeanX, double VarianceY, double[] CovarianceXY, double[,] CovarianceXX)
    {
        public static Moments Of(CovariateSums sums)
        {
            var count = sums.Count;
            var k = sums.Covariates;
            var n = Math.Max(1, count - 1.0);
            var meanY = sums.SumY / count;
            var meanX = sums.SumX.Select(sum => sum / count).ToArray();
            var covarianceXY = new double[k];
            var covarianceXX = new double[k, k];
            for (var i = 0; i < k; i++)
            {
                covarianceXY[i] = (sums.SumXY[i] - count * meanX[i] * meanY) / n;
                for (var j = 0; j < k; j++)
                {
                    covarianceXX[i, j] = i == j ? Math.Max(0, (sums.SumXX[i, i] - count * meanX[i] * meanX[i]) / n) : (sums.SumXX[i, j] - count * meanX[i] * meanX[j]) / n;
                }
            }

            return new Moments(count, meanY, meanX, Math.Max(0, (sums.SumY2 - count * meanY * meanY) / n), covarianceXY, covarianceXX);
        }

        /// <summary>Var(Y − θ'X) = Var(Y) − 2θ'Cov(X, Y) + θ'Cov(X)θ, summed in the order that makes one covariate's exactly Var(Y) − 2θCov + θ²Var(X).</summary>
        public double AdjustedVariance(double[] theta)
        {
            double cross = 0, quadratic = 0;
            for (var i = 0; i < theta.Length; i++)
            {
                cross += theta[i] * CovarianceXY[i];
                for (var j = 0; j < theta.Length; j++)
                {
                    quadratic += theta[i] * theta[j] * CovarianceXX[i, j];
                }
            }

            return VarianceY - 2 * cross + quadratic;
        }
    }
}
