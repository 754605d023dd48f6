using Ballast.Statistics.Drift;

namespace Ballast.Tests.Statistics.Drift;

public sealed class DistanceTests
{
    /// <summary>scipy 1.10.1 test_stats.py TestWassersteinDistance: test_simple, test_shift.</summary>
    [Fact]
    public void Wasserstein_matches_scipy()
    {
        WassersteinDistance.Compute([0, 1, 2], [1, 2, 3]).ShouldBe(1, 1e-6);
        WassersteinDistance.Compute([1, 2, 3, 4, 5], [11, 12, 13, 14, 15]).ShouldBe(10, 1e-6);
        WassersteinDistance.Compute([4.5, 6.7, 2.1], [4.6, 7, 9.2], [3, 1, 1], [1, 3, 1]).ShouldBe(2.5, 1e-6);
        WassersteinDistance.Compute([0, 1], [0], [3, 1], [1]).ShouldBe(0.25, 1e-6);
        WassersteinDistance.Compute([1, 1, 1, 4], [4, 1], [1, 1, 1, 1], [1, 3]).ShouldBe(0);
    }

    /// <summary>
    /// scipy 1.10.1 TestWassersteinDistance.test_combine_weights: a weight w is the value repeated w times; and
    /// test_zero_weight: a zero weight removes the value.
    /// </summary>
    [Fact]
    public void Weights_count_as_repetitions()
    {
        WassersteinDistance.Compute([0, 0, 1, 1, 1, 1, 5], [0, 3, 3, 3, 3, 4, 4])
            .ShouldBe(WassersteinDistance.Compute([5, 0, 1], [0, 4, 3], [1, 2, 4], [1, 2, 4]), 1e-12);
        WassersteinDistance.Compute([1, 2, 100000], [1, 1], [1, 1, 0], [1, 1])
            .ShouldBe(WassersteinDistance.Compute([1, 2], [1, 1], [1, 1], [1, 1]), 1e-12);
    }

    /// <summary>
    /// Evidently's <c>wasserstein</c> stattest (W / max(np.std(reference), 0.001)) on its t-test example data:
    /// scipy 1.10.1 wasserstein_distance / numpy 1.24.2 np.std = 0.781236105789365.
    /// </summary>
    [Fact]
    public void Normed_wasserstein_divides_by_the_reference_population_deviation()
    {
        WassersteinDistance.Normed([38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0], [39.2, 39.3, 39.7, 41.4, 41.8, 42.9, 43.3, 45.8])
            .ShouldBe(0.781236105789365, 1e-9);
        WassersteinDistance.Normed([3, 3, 3], [4, 4, 4]).ShouldBe(1 / WassersteinDistance.MinimumNorm, 1e-9);
    }

    /// <summary>scipy 1.10.1 test_stats.py TestEnergyDistance (test_simple, test_shift) and Evidently tests/stattests test_energy_distance.</summary>
    [Fact]
    public void Energy_distance_matches_scipy_and_evidently()
    {
        EnergyDistance.Compute([0, 1], [0], [1, 1], [1]).ShouldBe(Math.Sqrt(2) * 0.5, 1e-6);
        EnergyDistance.Compute([0, 2], [0], [1, 1], [1]).ShouldBe(1, 1e-6);
        EnergyDistance.Compute([0, 1, 2], [1, 2, 3]).ShouldBe(Math.Sqrt(2) * Math.Sqrt(3 * (1.0 / 9)), 1e-6);
        EnergyDistance.Compute([-5], [5]).ShouldBe(Math.Sqrt(2) * Math.Sqrt(10), 1e-6);

        double[] reference = [38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0];
        EnergyDistance.Compute(reference, reference).ShouldBe(0, 1e-5);
        // Evidently asserts ≈ 1.9 (abs 0.1); scipy 1.10.1 gives 1.9332614929181204.
        EnergyDistance.Compute(reference, reference.Select(x => x + 5).ToArray()).ShouldBe(1.9332614929181204, 1e-9);
    }

    /// <summary>scipy 1.10.1 spatial/tests/test_distance.py test_jensenshannon (natural log unless a base is given).</summary>
    [Fact]
    public void Jensen_shannon_matches_scipy()
    {
        JensenShannonDistance.Compute([1.0, 0.0], [0.5, 0.5]).ShouldBe(0.46450140402245893, 1e-6);
        JensenShannonDistance.Compute([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0).ShouldBe(1.0, 1e-6);
        JensenShannonDistance.Compute([1.0, 0.0, 0.0], [1.0, 0.0, 0.0]).ShouldBe(0.0, 1e-6);
        JensenShannonDistance.Compute([1.0, 2.0], [0.5, 1.5]).ShouldBe(0.0649045, 1e-7);
    }

    /// <summary>
    /// Evidently tests/stattests/test_stattests.py test_freq_obs_eq_freq_exp and test_freq_obs_not_eq_freq_exp:
    /// values 1..6 with counts [16, 18, 16, 14, 12, 12] (and twice that) against [16, 16, 16, 16, 16, 8] → 0.06812.
    /// </summary>
    [Fact]
    public void Hellinger_matches_evidently()
    {
        HellingerDistance.FromCounts([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]).ShouldBe(0.06812, 1e-5);
        HellingerDistance.FromCounts([32, 36, 32, 28, 24, 24], [16, 16, 16, 16, 16, 8]).ShouldBe(0.06812, 1e-5);
        HellingerDistance.FromCounts([10, 10], [10, 10]).ShouldBe(0, 1e-12);
    }

    /// <summary>Evidently test_num_features and test_hellinger_distance: identical numerical samples (even a constant one) are at distance 0.</summary>
    [Fact]
    public void Numerical_hellinger_of_identical_samples_is_zero()
    {
        double[] values = [38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0];
        HellingerDistance.Numerical(values, values).ShouldBe(0, 1e-5);
        double[] constant = [.. Enumerable.Repeat(1.0, 50)];
        HellingerDistance.Numerical(constant, constant).ShouldBe(0, 1e-3);
    }

    /// <summary>
    /// NannyML tests/drift/test_univariate_drift_methods.py: test_l_infinity_for_new_category (aabbcc vs aabbccd →
    /// 0.14), test_l_infinity_for_no_change (0.0), test_l_infinity_for_total_change (aabbcc vs bbbbb → 0.67), each
    /// rounded to 2 decimals.
    /// </summary>
    [Fact]
    public void L_infinity_matches_nannyml()
    {
        Math.Round(LInfinityDistance.FromCounts([2, 2, 2, 0], [2, 2, 2, 1]), 2).ShouldBe(0.14);
        Math.Round(LInfinityDistance.FromCounts([2, 2, 2], [2, 2, 2]), 2).ShouldBe(0.0);
        Math.Round(LInfinityDistance.FromCounts([2, 2, 2], [0, 5, 0]), 2).ShouldBe(0.67);
    }

    /// <summary>
    /// Evidently's psi stattest (get_binned_data, per value for categories, 0.0001 for empty bins) re-run with numpy
    /// 1.24.2: the Evidently chi-square example counts give PSI 0.037218381577290835; a category new in current
    /// (a, b, c at 50/30/20 against a, b, c, d at 40/30/20/10) gives 0.7123991075017365.
    /// </summary>
    [Fact]
    public void Psi_follows_evidently_binning_and_empty_bin_fill()
    {
        PopulationStabilityIndex.FromCounts([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]).ShouldBe(0.037218381577290835, 1e-9);
        PopulationStabilityIndex.FromCounts([50, 30, 20, 0], [40, 30, 20, 10]).ShouldBe(0.7123991075017365, 1e-9);
        PopulationStabilityIndex.FromCounts([5, 5], [5, 5]).ShouldBe(0);
    }

    /// <summary>
    /// Evidently's numerical binning: np.histogram_bin_edges(reference + current, "sturges") (numpy 1.24.2). For
    /// linspace(0, 10, 101) against linspace(2, 12, 51): 9 edges 0, 4/3, …, 12; PSI 2.0668140786963423 and
    /// Jensen–Shannon (base 2, no fill) 0.3886602643297117.
    /// </summary>
    [Fact]
    public void Sturges_bins_over_both_samples_match_numpy()
    {
        var reference = KolmogorovSmirnovTests.Linspace(0, 10, 101);
        var current = KolmogorovSmirnovTests.Linspace(2, 12, 51);
        var bins = HistogramBins.Sturges(0, 12, reference.Length + current.Length);

        bins.Edges.ShouldBe([0.0, 1.3333333333333333, 2.6666666666666665, 4.0, 5.333333333333333, 6.666666666666666, 8.0, 9.333333333333332, 10.666666666666666, 12.0]);
        var (r, c) = (bins.Counts(reference).Select(x => (double)x).ToArray(), bins.Counts(current).Select(x => (double)x).ToArray());
        PopulationStabilityIndex.FromCounts(r, c).ShouldBe(2.0668140786963423, 1e-9);
        JensenShannonDistance.Compute(r, c, JensenShannonDistance.DriftBase).ShouldBe(0.3886602643297117, 1e-9);
    }

    [Fact]
    public void Bins_place_values_as_numpy_histogram()
    {
        var bins = HistogramBins.Linspace(0, 1, 4);

        bins.IndexOf(0).ShouldBe(0);
        bins.IndexOf(0.25).ShouldBe(1);
        bins.IndexOf(0.999).ShouldBe(3);
        bins.IndexOf(1).ShouldBe(3);
        bins.IndexOf(1.0001).ShouldBe(-1);
        bins.IndexOf(double.NaN).ShouldBe(-1);
        HistogramBins.Sturges(5, 5, 10).Edges.ShouldBe([4.5, 5.5]);
    }
}
