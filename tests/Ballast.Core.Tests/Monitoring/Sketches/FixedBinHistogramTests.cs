using Ballast.Monitoring.Sketches;
using Ballast.Statistics.Drift;

namespace Ballast.Tests.Monitoring.Sketches;

public sealed class FixedBinHistogramTests
{
    private static readonly HistogramBins Bins = HistogramBins.Linspace(-2, 2, 10);

    [Fact]
    public void Counts_match_BinnedCounts_over_sorted_data_and_out_of_range_values_are_counted_aside()
    {
        var values = SketchData.Normal(10_000, 3).Append(double.NaN).ToArray();
        var histogram = Build(values);
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        var exact = BinnedCounts.OfSorted(Bins, sorted, sorted);
        histogram.Counts.Select(c => (double)c).ShouldBe(exact.Reference);
        histogram.Below.ShouldBe(sorted.Count(v => v < -2));
        histogram.Above.ShouldBe(sorted.Count(v => v > 2));
        histogram.NaN.ShouldBe(1);
        histogram.Total.ShouldBe(values.Length);
    }

    [Fact]
    public void Merge_in_any_order_equals_the_single_pass_histogram_and_feeds_drift()
    {
        var values = SketchData.Normal(20_000, 4);
        var whole = Build(values);
        var shards = SketchData.Shards(values, 5).Select(Build).ToArray();
        var merged = shards[3];
        foreach (var i in new[] { 0, 4, 1, 2 })
        {
            merged.Merge(shards[i]);
        }

        merged.ToBytes().ShouldBe(whole.ToBytes());
        var counts = FixedBinHistogram.ToBinnedCounts(whole, Build(SketchData.Uniform(1_000, 5)));
        counts.Reference.Sum().ShouldBe(whole.Counts.Sum());
        counts.Bins.ShouldBe(Bins);
    }

    [Fact]
    public void Different_edges_do_not_merge_and_bytes_round_trip()
    {
        var histogram = Build(SketchData.Uniform(100, 1));
        Should.Throw<ArgumentException>(() => histogram.Merge(new FixedBinHistogram(HistogramBins.Linspace(0, 1, 10))));
        FixedBinHistogram.FromBytes(histogram.ToBytes()).ToBytes().ShouldBe(histogram.ToBytes());
    }

    private static FixedBinHistogram Build(double[] values)
    {
        var histogram = new FixedBinHistogram(Bins);
        foreach (var value in values)
        {
            histogram.Update(value);
        }

        return histogram;
    }
}
