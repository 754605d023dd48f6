using Ballast.Monitoring.Sketches;

namespace Ballast.Tests.Monitoring.Sketches;

// Bound: Misra–Gries undercounts by at most N/(m+1), also after merges (Agarwal, Cormode, Huang, Phillips, Wei and Yi,
// "Mergeable Summaries", PODS 2012, section 3).
public sealed class FrequentItemsTests
{
    private const int Capacity = 50;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_item_above_N_over_m_is_reported_and_counts_are_within_N_over_m(int seed)
    {
        var items = Zipf(100_000, 5_000, seed);
        var sketch = new FrequentItems(Capacity);
        foreach (var item in items)
        {
            sketch.Update(item);
        }

        CheckAgainstTruth(sketch, items);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Merging_shards_in_any_grouping_keeps_the_guarantee(int seed)
    {
        var items = Zipf(100_000, 5_000, seed);
        var shards = Enumerable.Range(0, 8).Select(s =>
        {
            var sketch = new FrequentItems(Capacity);
            for (var i = s; i < items.Length; i += 8)
            {
                sketch.Update(items[i]);
            }

            return sketch.ToBytes();
        }).ToArray();

        var random = new Random(seed);
        for (var trial = 0; trial < 5; trial++)
        {
            var pool = shards.Select(bytes => FrequentItems.FromBytes(bytes)).ToList();
            while (pool.Count > 1)
            {
                var a = pool[random.Next(pool.Count)];
                pool.Remove(a);
                var b = pool[random.Next(pool.Count)];
                pool.Remove(b);
                a.Merge(b);
                pool.Add(a);
            }

            pool[0].Count.ShouldBe(items.Length);
            CheckAgainstTruth(pool[0], items);
        }
    }

    [Fact]
    public void Few_distinct_items_are_counted_exactly_and_round_trip()
    {
        var sketch = new FrequentItems(4);
        foreach (var item in new[] { "a", "b", "a", "c", "a", "b", "é" })
        {
            sketch.Update(item);
        }

        sketch.MaximumError.ShouldBe(0);
        sketch.Items().ShouldBe([("a", 3L, 3L), ("b", 2L, 2L), ("c", 1L, 1L), ("é", 1L, 1L)]);
        var copy = FrequentItems.FromBytes(sketch.ToBytes());
        copy.Items().ShouldBe(sketch.Items());
        copy.ToBytes().ShouldBe(sketch.ToBytes());
        Should.Throw<ArgumentException>(() => sketch.Merge(new FrequentItems(5)));
    }

    private static void CheckAgainstTruth(FrequentItems sketch, string[] items)
    {
        var truth = items.GroupBy(item => item, StringComparer.Ordinal).ToDictionary(group => group.Key, group => (long)group.Count(), StringComparer.Ordinal);
        var n = (double)items.Length;
        ((double)sketch.MaximumError).ShouldBeLessThanOrEqualTo(n / (Capacity + 1));
        var reported = sketch.Items().ToDictionary(entry => entry.Item, entry => entry.Estimate, StringComparer.Ordinal);
        foreach (var (item, count) in truth)
        {
            var estimate = sketch.Estimate(item);
            estimate.ShouldBeLessThanOrEqualTo(count);
            (count - estimate).ShouldBeLessThanOrEqualTo((long)(n / Capacity));
            if (count > n / Capacity)
            {
                reported.ShouldContainKey(item);
            }
        }
    }

    /// <summary>Zipf(1.1)-like items by inverse-CDF over ranks: a few heavy hitters and a long tail.</summary>
    private static string[] Zipf(int n, int ranks, int seed)
    {
        var weights = Enumerable.Range(1, ranks).Select(rank => 1.0 / Math.Pow(rank, 1.1)).ToArray();
        var cumulative = new double[ranks];
        double total = 0;
        for (var i = 0; i < ranks; i++)
        {
            total += weights[i];
            cumulative[i] = total;
        }

        var random = new Random(seed);
        var items = new string[n];
        for (var i = 0; i < n; i++)
        {
            var index = Array.BinarySearch(cumulative, random.NextDouble() * total);
            items[i] = $"item{(index < 0 ? ~index : index)}";
        }

        return items;
    }
}
