using Ballast.Statistics;
using Ballast.Statistics.Drift;

namespace Ballast.Tests.Statistics.Drift;

/// <summary>
/// The walk over sorted values with counts, which lets a database stream a column of any size: it must give the known
/// answers the array methods give (cited per test) and, on any data, the array methods' numbers to the last bit.
/// </summary>
public sealed class EmpiricalCdfScanTests
{
    /// <summary>scipy 1.10.1 test_stats.py TestKSTwoSamples.testRepeatedValues: x2233 vs x2233 + 1 → D 0.3125, p 0.4262934613454952 (exact).</summary>
    [Fact]
    public void Ks_from_value_counts_matches_scipy()
    {
        // x = [2]*3 + [3]*4 + [5]*5 + [6]*4 against x + 1, given as counts per distinct value of the pooled samples.
        var scan = new EmpiricalCdfScan(16, 16);
        scan.Add(2, 3, 0);
        scan.Add(3, 4, 3);
        scan.Add(4, 0, 4);
        scan.Add(5, 5, 0);
        scan.Add(6, 4, 5);
        scan.Add(7, 0, 4);
        scan.Complete();

        scan.KolmogorovSmirnov.ShouldBe(0.3125, 1e-12);
        var result = KolmogorovSmirnovTest.FromStatistic(scan.KolmogorovSmirnov, scan.ReferenceCount, scan.CurrentCount);
        result.PValue.ShouldBe(0.4262934613454952, 1e-6);
        result.Method.ShouldBe(KsMethod.Exact);
    }

    /// <summary>scipy 1.10.1 test_stats.py TestWassersteinDistance (test_simple, test_shift): 1 and 10; TestEnergyDistance test_simple: √2·0.5 for [0, 1] vs [0].</summary>
    [Fact]
    public void Cdf_integrals_match_scipy()
    {
        EmpiricalCdfScan.OfSorted([0, 1, 2], [1, 2, 3]).AbsoluteCdfIntegral.ShouldBe(1, 1e-12);
        EmpiricalCdfScan.OfSorted([1, 2, 3, 4, 5], [11, 12, 13, 14, 15]).AbsoluteCdfIntegral.ShouldBe(10, 1e-12);
        (Math.Sqrt(2) * Math.Sqrt(EmpiricalCdfScan.OfSorted([0, 1], [0]).SquaredCdfIntegral)).ShouldBe(Math.Sqrt(2) * 0.5, 1e-12);
    }

    /// <summary>
    /// scipy 1.10.1 anderson_ksamp on Evidently's test_anderson_darling data: statistic 1.7183096744360893, p
    /// 0.06351467728760828; cramervonmises_2samp on Conover's example (scipy's test_morestats): T 0.262, p 0.18 (exact).
    /// </summary>
    [Fact]
    public void Rank_statistics_from_the_walk_match_scipy()
    {
        double[] a = [38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0];
        double[] b = [39.2, 39.3, 39.7, 41.4, 41.8, 42.9, 43.3, 45.8];
        Array.Sort(b);
        var scan = EmpiricalCdfScan.OfSorted(a, b);
        var anderson = AndersonDarlingTest.FromMidrankStatistic(scan.AndersonDarlingMidrank, scan.ReferenceCount, scan.CurrentCount, scan.Distinct);
        anderson.Statistic.ShouldBe(1.7183096744360893, 1e-9);
        anderson.PValue.ShouldBe(0.06351467728760828, 1e-9);

        double[] x = [7.6, 8.4, 8.6, 8.7, 9.3, 9.9, 10.1, 10.6, 11.2];
        double[] y = [5.2, 5.7, 5.9, 6.5, 6.8, 8.2, 9.1, 9.8, 10.8, 11.3, 11.5, 12.3, 12.5, 13.4, 14.6];
        var walk = EmpiricalCdfScan.OfSorted(x, y);
        var cramer = CramerVonMisesTest.FromRankSum(walk.CramerVonMisesU, walk.ReferenceCount, walk.CurrentCount, exact: true);
        cramer.Statistic.ShouldBe(0.262, 1e-3);
        cramer.PValue.ShouldBe(0.18, 1e-2);
    }

    [Theory]
    [InlineData(1, 500, 700, 0)]
    [InlineData(2, 3000, 2000, 1)]
    [InlineData(3, 40, 25, 2)]
    [InlineData(4, 12, 20, 1)]
    public void The_walk_gives_the_array_methods_numbers_to_the_last_bit(int seed, int referenceCount, int currentCount, int digits)
    {
        // digits 0: continuous; 1 or 2: rounded, so values repeat within and across the samples.
        var random = new Random(seed);
        var reference = Sample(random, referenceCount, 0, digits);
        var current = Sample(random, currentCount, 0.3, digits);
        var (min, max) = (Math.Min(reference[0], current[0]), Math.Max(reference[^1], current[^1]));
        var bins = HistogramBins.Sturges(min, max, referenceCount + currentCount);
        var distinct = DriftColumn.NumberCategories(reference, current);
        var distinctBins = HistogramBins.Sturges(min, max, distinct.Count);

        var scan = EmpiricalCdfScan.OfSorted(reference, current, bins, distinctBins, countValues: true);

        scan.KolmogorovSmirnov.ShouldBe(KolmogorovSmirnovTest.Statistic(reference, current));
        scan.AbsoluteCdfIntegral.ShouldBe(WassersteinDistance.ComputeSorted(reference, current));
        (Math.Sqrt(2) * Math.Sqrt(scan.SquaredCdfIntegral)).ShouldBe(EnergyDistance.ComputeSorted(reference, current));
        CramerVonMisesTest.FromRankSum(scan.CramerVonMisesU, referenceCount, currentCount, Math.Max(referenceCount, currentCount) <= CramerVonMisesTest.ExactLimit)
            .ShouldBe(CramerVonMisesTest.TwoSampleSorted(reference, current));
        AndersonDarlingTest.FromMidrankStatistic(scan.AndersonDarlingMidrank, referenceCount, currentCount, scan.Distinct).Statistic
            .ShouldBe(AndersonDarlingTest.TwoSample(reference, current).Statistic);
        scan.ReferenceSummary.ShouldBe(SampleSummary.FromValues(reference));
        scan.CurrentSummary.ShouldBe(SampleSummary.FromValues(current));
        var histogram = BinnedCounts.OfSorted(bins, reference, current);
        scan.Histogram!.Reference.ShouldBe(histogram.Reference);
        scan.Histogram.Current.ShouldBe(histogram.Current);
        var distinctHistogram = BinnedCounts.OfSorted(distinctBins, reference, current);
        scan.DistinctHistogram!.Reference.ShouldBe(distinctHistogram.Reference);
        scan.DistinctHistogram.Current.ShouldBe(distinctHistogram.Current);
        scan.Categories!.Keys.ShouldBe(distinct.Keys);
        scan.Categories.Reference.ShouldBe(distinct.Reference);
        scan.Categories.Current.ShouldBe(distinct.Current);
        scan.Distinct.ShouldBe(distinct.Count);
        (scan.Min, scan.Max).ShouldBe((min, max));
    }

    [Fact]
    public void Rows_of_one_value_are_merged_however_they_are_split()
    {
        // A database may return a value in several rows (one per sample, or −0.0 apart from 0.0): the walk adds them up.
        var split = new EmpiricalCdfScan(5, 4);
        split.Add(-1, 1, 0);
        split.Add(-0.0, 1, 0);
        split.Add(0.0, 0, 2);
        split.Add(0.0, 1, 0);
        split.Add(2, 1, 0);
        split.Add(2, 0, 1);
        split.Add(3, 1, 1);
        split.Complete();

        var whole = EmpiricalCdfScan.OfSorted([-1, 0, 0, 2, 3], [0, 0, 2, 3]);

        split.Distinct.ShouldBe(4);
        split.KolmogorovSmirnov.ShouldBe(whole.KolmogorovSmirnov);
        split.AbsoluteCdfIntegral.ShouldBe(whole.AbsoluteCdfIntegral);
        split.CramerVonMisesU.ShouldBe(whole.CramerVonMisesU);
        split.AndersonDarlingMidrank.ShouldBe(whole.AndersonDarlingMidrank);
    }

    [Fact]
    public void Out_of_order_missing_or_miscounted_values_are_refused()
    {
        var scan = new EmpiricalCdfScan(2, 2);
        scan.Add(1, 1, 1);
        Should.Throw<ArgumentException>(() => scan.Add(0.5, 1, 1)).Message.ShouldContain("ascending order");
        Should.Throw<ArgumentException>(() => scan.Add(double.NaN, 1, 0)).Message.ShouldContain("not a finite number");
        Should.Throw<ArgumentException>(() => scan.Add(2, 0, 0)).Message.ShouldContain("not both 0");
        Should.Throw<InvalidOperationException>(() => scan.KolmogorovSmirnov).Message.ShouldContain("not complete");
        Should.Throw<ArgumentException>(() => scan.Complete()).Message.ShouldContain("saw 1 reference and 1 current values, not the 2 and 2");
        Should.Throw<ArgumentException>(() => new EmpiricalCdfScan(0, 3)).Message.ShouldContain("at least 1 value");
    }

    private static double[] Sample(Random random, int count, double shift, int digits)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = digits == 0 ? normal + shift : Math.Round(normal + shift, digits);
        }

        Array.Sort(values);
        return values;
    }
}
