using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class CorrelationTests
{
    // Anscombe (1973), "Graphs in Statistical Analysis", The American Statistician 27(1): data set I.
    private static readonly double?[] AnscombeX = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    private static readonly double?[] AnscombeY = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];

    [Fact]
    public void Pearson_of_anscombe_set_one_matches_scipy()
    {
        // scipy.stats.pearsonr(x, y).statistic ≈ 0.816420516344840 (the same sums in double precision); Anscombe reports 0.816.
        Correlation.Pearson(AnscombeX, AnscombeY)!.Value.ShouldBe(0.81642051634484, 1e-12);
    }

    [Fact]
    public void Pearson_skips_incomplete_pairs_like_pandas_and_is_undefined_for_constants_or_fewer_than_three_pairs()
    {
        // pandas.Series.corr drops pairs with a missing side: adding (null, 1) and (3, NaN) changes nothing.
        Correlation.Pearson([.. AnscombeX, null, 3], [.. AnscombeY, 1, double.NaN])!.Value.ShouldBe(0.81642051634484, 1e-12);
        Correlation.Pearson([1, 2, 3], [5, 5, 5]).ShouldBeNull();
        Correlation.Pearson([1, 2], [1, 2]).ShouldBeNull();
        Correlation.Pearson([1, 2, 3], [3, 2, 1])!.Value.ShouldBe(-1, 1e-15);
        Should.Throw<ArgumentException>(() => Correlation.Pearson([1, 2, 3], [1, 2]));
    }
}
