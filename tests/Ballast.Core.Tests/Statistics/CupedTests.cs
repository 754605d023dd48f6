using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class CupedTests
{
    private static readonly double[] Metric = [12, 15, 9, 20, 17, 11, 14, 16];
    private static readonly double[] Covariate = [10, 14, 8, 18, 15, 10, 12, 15];

    /// <summary>
    /// numpy 1.24 (Debian): <c>c = np.cov(y, x); theta = c[0,1]/c[1,1]</c> = 1.0516129032258064;
    /// <c>adj = y − theta (x − x.mean())</c> has mean 14.25 and <c>var(ddof=1)</c> 0.25622119815668193 (raw 12.5).
    /// </summary>
    [Fact]
    public void Theta_and_the_adjusted_summary_match_numpy()
    {
        var theta = Cuped.Theta(Metric, Covariate);
        var adjusted = Cuped.Adjust(Metric, Covariate, theta, Covariate.Average());

        theta.ShouldBe(1.0516129032258064, 1e-13);
        adjusted.Count.ShouldBe(8);
        adjusted.Mean.ShouldBe(14.25, 1e-12);
        adjusted.Variance.ShouldBe(0.25622119815668193, 1e-12);
    }

    /// <summary>Deng et al. (2013), section 3.2: with the optimal θ, Var(Y_cv) = Var(Y)(1 − ρ²).</summary>
    [Fact]
    public void Variance_shrinks_by_the_squared_correlation()
    {
        var y = SampleSummary.FromValues(Metric);
        var x = SampleSummary.FromValues(Covariate);
        var covariance = Metric.Zip(Covariate, (a, b) => (a - y.Mean) * (b - x.Mean)).Sum() / (Metric.Length - 1);
        var correlation = covariance / Math.Sqrt(y.Variance * x.Variance);

        var adjusted = Cuped.Adjust(Metric, Covariate, Cuped.Theta(Metric, Covariate), x.Mean);

        adjusted.Variance.ShouldBe(y.Variance * (1 - correlation * correlation), 1e-12);
    }

    [Fact]
    public void Both_groups_share_theta_and_the_covariate_mean_so_the_difference_stays_unbiased_and_tighter()
    {
        var random = new Random(20240601);
        var (controlY, controlX) = Units(random, 400, lift: 0);
        var (treatmentY, treatmentX) = Units(random, 400, lift: 0.5);

        var cuped = Cuped.Analyze(controlY, controlX, treatmentY, treatmentX);
        var raw = FrequentistTest.TwoSided(SampleSummary.FromValues(controlY), SampleSummary.FromValues(treatmentY), DifferenceType.Absolute);
        var adjusted = FrequentistTest.TwoSided(cuped.Control, cuped.Treatment, DifferenceType.Absolute);

        cuped.VarianceReduction.ShouldBeGreaterThan(0.5);
        adjusted.StandardError.ShouldBeLessThan(raw.StandardError * 0.75);
        adjusted.Estimate.ShouldBe(0.5, 4 * adjusted.StandardError);
        // The adjusted difference is the raw one minus θ times the covariate imbalance.
        var imbalance = treatmentX.Average() - controlX.Average();
        adjusted.Estimate.ShouldBe(raw.Estimate - cuped.Theta * imbalance, 1e-9);
    }

    /// <summary>
    /// The sums a SQL query returns give the numpy answer above (θ = 1.0516129032258064 over all eight units) and the
    /// same adjusted groups as the raw values, so experiment results can run CUPED in the database.
    /// </summary>
    [Fact]
    public void Cuped_from_sums_matches_numpy_and_the_raw_values()
    {
        static CupedSums Sums(double[] y, double[] x) => new(y.Length, y.Sum(), y.Sum(v => v * v), x.Sum(), x.Sum(v => v * v), y.Zip(x, (a, b) => a * b).Sum());
        var (controlY, controlX, treatmentY, treatmentX) = (Metric[..4], Covariate[..4], Metric[4..], Covariate[4..]);

        var fromSums = Cuped.FromSums([Sums(controlY, controlX), Sums(treatmentY, treatmentX)]);
        var fromValues = Cuped.Analyze(controlY, controlX, treatmentY, treatmentX);

        fromSums.Theta.ShouldBe(1.0516129032258064, 1e-12);
        fromSums.CovariateMean.ShouldBe(Covariate.Average(), 1e-12);
        fromSums.VarianceReduction.ShouldBe(1 - 0.25622119815668193 / 12.5, 1e-12);
        fromSums.Groups[0].Mean.ShouldBe(fromValues.Control.Mean, 1e-12);
        fromSums.Groups[0].Variance.ShouldBe(fromValues.Control.Variance, 1e-9);
        fromSums.Groups[1].Mean.ShouldBe(fromValues.Treatment.Mean, 1e-12);
        fromSums.Groups[1].Variance.ShouldBe(fromValues.Treatment.Variance, 1e-9);
    }

    [Fact]
    public void Mismatched_lengths_are_refused_plainly()
    {
        Should.Throw<ArgumentException>(() => Cuped.Theta([1, 2, 3], [1, 2])).Message
            .ShouldBe("the metric has 3 values but the covariate 2; CUPED needs one covariate value per unit.");
    }

    /// <summary>Pre-period spend X ~ N(50, 10²) and in-experiment spend Y = 0.8 X + N(0, 4²) + lift.</summary>
    private static (double[] Y, double[] X) Units(Random random, int count, double lift)
    {
        var (y, x) = (new double[count], new double[count]);
        for (var i = 0; i < count; i++)
        {
            x[i] = 50 + 10 * Normal(random);
            y[i] = 0.8 * x[i] + 4 * Normal(random) + lift;
        }

        return (y, x);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
