using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class CupedRegressionTests
{
    /// <summary>
    /// NIST Statistical Reference Datasets, linear least squares, "Longley" (higher level of difficulty; Longley, JASA 62,
    /// 819-841, 1967), https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml: y (Employed), then x1 (GNP deflator),
    /// x2 (GNP), x3 (unemployed), x4 (armed forces), x5 (population), x6 (year), 1947 to 1962.
    /// </summary>
    private static readonly double[][] Longley =
    [
        [60323, 83.0, 234289, 2356, 1590, 107608, 1947],
        [61122, 88.5, 259426, 2325, 1456, 108632, 1948],
        [60171, 88.2, 258054, 3682, 1616, 109773, 1949],
        [61187, 89.5, 284599, 3351, 1650, 110929, 1950],
        [63221, 96.2, 328975, 2099, 3099, 112075, 1951],
        [63639, 98.1, 346999, 1932, 3594, 113270, 1952],
        [64989, 99.0, 365385, 1870, 3547, 115094, 1953],
        [63761, 100.0, 363112, 3578, 3350, 116219, 1954],
        [66019, 101.2, 397469, 2904, 3048, 117388, 1955],
        [67857, 104.6, 419180, 2822, 2857, 118734, 1956],
        [68169, 108.4, 442769, 2936, 2798, 120445, 1957],
        [66513, 110.8, 444546, 4681, 2637, 121950, 1958],
        [68655, 112.6, 482704, 3813, 2552, 123366, 1959],
        [69564, 114.2, 502601, 3931, 2514, 125368, 1960],
        [69331, 115.7, 518173, 4806, 2572, 127852, 1961],
        [70551, 116.9, 554894, 4007, 2827, 130081, 1962],
    ];

    /// <summary>NIST's certified values for Longley: B0 (intercept) to B6, and R².</summary>
    private static readonly double[] LongleyCertified =
        [-3482258.63459582, 15.0618722713733, -0.358191792925910E-01, -2.02022980381683, -1.03322686717359, -0.511041056535807E-01, 1829.15146461355];

    private const double LongleyCertifiedRSquared = 0.995479004577296;

    /// <summary>
    /// θ = Σ_XX⁻¹ Σ_XY is the slope vector of the least-squares fit of Y on the covariates with an intercept (Deng et al.
    /// 2013, section 3.3), so on Longley's sums it must give NIST's certified coefficients, E[Y] − θ'E[X] the certified
    /// intercept, and the variance removed the certified R². Longley is nearly collinear and the sums are raw (as SQL
    /// returns them: Σ year² is 6e7 against a centered 340), so agreement is checked to 1e-7 relative, not NIST's 15
    /// digits (measured: 3.5e-9 at worst, on B1; the intercept and B6 to 4e-11).
    /// </summary>
    [Fact]
    public void Theta_from_sums_matches_the_nist_certified_longley_coefficients()
    {
        var y = Longley.Select(row => row[0]).ToArray();
        var x = Longley.Select(row => (IReadOnlyList<double>)row[1..]).ToArray();

        var fit = CupedRegressions.FromSums([CovariateSums.Of(y, x)]);

        fit.Fits.ShouldAllBe(status => status == CovariateFit.Used);
        for (var i = 0; i < 6; i++)
        {
            fit.Theta[i].ShouldBe(LongleyCertified[i + 1], Math.Abs(LongleyCertified[i + 1]) * 1e-7, $"B{i + 1}");
        }

        var intercept = y.Average() - fit.Theta.Select((theta, i) => theta * fit.CovariateMeans[i]).Sum();
        intercept.ShouldBe(LongleyCertified[0], Math.Abs(LongleyCertified[0]) * 1e-7, "B0");
        fit.VarianceReduction.ShouldBe(LongleyCertifiedRSquared, 1e-9);
        fit.Groups.ShouldHaveSingleItem().Mean.ShouldBe(y.Average(), 1e-9);
    }

    /// <summary>
    /// With one covariate the regression is single-covariate CUPED, to the last bit: the same θ, groups and variance
    /// reduction as <see cref="Cuped.FromSums"/>, itself checked against numpy 1.24 (θ = 1.0516129032258064 on the
    /// eight units of <see cref="CupedTests"/>), and on 800 seeded units in two groups.
    /// </summary>
    [Fact]
    public void One_covariate_gives_exactly_the_single_covariate_numbers()
    {
        double[] metric = [12, 15, 9, 20, 17, 11, 14, 16];
        double[] covariate = [10, 14, 8, 18, 15, 10, 12, 15];
        var random = new Random(20240601);
        var (bigY, bigX) = (new double[800], new double[800]);
        for (var i = 0; i < 800; i++)
        {
            bigX[i] = 50 + 10 * Normal(random);
            bigY[i] = 0.8 * bigX[i] + 4 * Normal(random) + (i >= 400 ? 0.5 : 0);
        }

        foreach (var (y, x, split) in new[] { (metric, covariate, 4), (bigY, bigX, 400) })
        {
            var groups = new[] { (y[..split], x[..split]), (y[split..], x[split..]) };
            var single = Cuped.FromSums(groups.Select(group => new CupedSums(group.Item1.Length, group.Item1.Sum(), group.Item1.Sum(v => v * v), group.Item2.Sum(),
                group.Item2.Sum(v => v * v), group.Item1.Zip(group.Item2, (a, b) => a * b).Sum())).ToList());
            var regression = CupedRegressions.FromSums(groups.Select(group => new CovariateSums(group.Item1.Length, group.Item1.Sum(), group.Item1.Sum(v => v * v),
                [group.Item2.Sum()], [group.Item1.Zip(group.Item2, (a, b) => a * b).Sum()], new double[,] { { group.Item2.Sum(v => v * v) } })).ToList());

            regression.Theta.ShouldHaveSingleItem().ShouldBe(single.Theta);
            regression.CovariateMeans.ShouldHaveSingleItem().ShouldBe(single.CovariateMean);
            regression.VarianceReduction.ShouldBe(single.VarianceReduction);
            regression.Groups.ShouldBe(single.Groups);
        }

        var numpy = CupedRegressions.FromSums([CovariateSums.Of(metric, covariate.Select(value => (IReadOnlyList<double>)[value]).ToList())]);
        numpy.Theta[0].ShouldBe(1.0516129032258064, 1e-12);
        numpy.VarianceReduction.ShouldBe(1 - 0.25622119815668193 / 12.5, 1e-12);
    }

    /// <summary>
    /// A covariate that is a linear combination of the ones before it (x3 = x1 + x2) makes Σ_XX singular: it is left
    /// out with θ 0 and the others keep the exact answer, here Y = 1 + 2 x1 − 3 x2 with no noise, so θ = (2, −3) and
    /// all the variance goes (by construction). A constant covariate has no variance and is left out too; nothing is NaN.
    /// </summary>
    [Fact]
    public void A_collinear_or_constant_covariate_is_left_out_and_the_others_keep_the_exact_fit()
    {
        double[] x1 = [1, 2, 3, 4, 5, 6, 7, 8];
        double[] x2 = [2, 1, 4, 3, 6, 5, 9, 7];
        var y = x1.Select((value, i) => 1 + 2 * value - 3 * x2[i]).ToArray();
        var rows = x1.Select((value, i) => (IReadOnlyList<double>)[value, x2[i], value + x2[i], 5]).ToArray();

        var fit = CupedRegressions.FromSums([CovariateSums.Of(y[..4], rows[..4]), CovariateSums.Of(y[4..], rows[4..])]);

        fit.Fits.ShouldBe([CovariateFit.Used, CovariateFit.Used, CovariateFit.Collinear, CovariateFit.NoVariance]);
        fit.Theta[0].ShouldBe(2, 1e-9);
        fit.Theta[1].ShouldBe(-3, 1e-9);
        (fit.Theta[2], fit.Theta[3]).ShouldBe((0.0, 0.0));
        fit.VarianceReduction.ShouldBe(1, 1e-9);
        fit.Groups.ShouldAllBe(group => double.IsFinite(group.Mean) && double.IsFinite(group.Variance) && group.Variance < 1e-9);
        // The adjusted means are 1 + 2 E[x1] − 3 E[x2] (pooled) in both groups: the groups differ only through the covariates.
        var expected = 1 + 2 * x1.Average() - 3 * x2.Average();
        fit.Groups.ShouldAllBe(group => Math.Abs(group.Mean - expected) < 1e-9);
    }

    [Fact]
    public void Only_collinear_or_empty_covariates_leave_the_metric_unadjusted()
    {
        double[] y = [3, 5, 4, 6];
        var rows = y.Select(_ => (IReadOnlyList<double>)[0, 0]).ToArray();

        var fit = CupedRegressions.FromSums([CovariateSums.Of(y, rows)]);

        fit.Fits.ShouldBe([CovariateFit.NoVariance, CovariateFit.NoVariance]);
        fit.Theta.ShouldBe([0.0, 0.0]);
        fit.VarianceReduction.ShouldBe(0);
        (fit.Groups[0].Count, fit.Groups[0].Mean).ShouldBe((4L, 4.5));
        fit.Groups[0].Variance.ShouldBe(5.0 / 3, 1e-12);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
