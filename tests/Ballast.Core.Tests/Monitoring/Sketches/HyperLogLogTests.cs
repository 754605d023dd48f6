using Ballast.Monitoring.Sketches;

namespace Ballast.Tests.Monitoring.Sketches;

// Bound: relative standard error 1.04/√m (Flajolet et al. 2007, "HyperLogLog: the analysis of a near-optimal
// cardinality estimation algorithm", Theorem 1); m = 2¹² gives 1.63%, so 3 standard errors is 4.9%.
public sealed class HyperLogLogTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Estimate_of_100000_distinct_strings_is_within_3_standard_errors(int seed)
    {
        var sketch = new HyperLogLog();
        var random = new Random(seed);
        const int distinct = 100_000;
        for (var i = 0; i < distinct; i++)
        {
            var value = $"user-{seed}-{i}";
            sketch.Update(value);
            if (random.Next(4) == 0)
            {
                sketch.Update(value); // repeats must not count
            }
        }

        var relative = Math.Abs(sketch.Estimate() - distinct) / distinct;
        relative.ShouldBeLessThan(3 * sketch.RelativeStandardError);
    }

    [Fact]
    public void Small_cardinalities_use_linear_counting_and_are_near_exact()
    {
        var sketch = new HyperLogLog();
        for (var i = 0; i < 100; i++)
        {
            sketch.Update(i);
            sketch.Update(i);
        }

        sketch.Estimate().ShouldBe(100, 3);
        new HyperLogLog().Estimate().ShouldBe(0);
    }

    [Fact]
    public void Merge_in_any_grouping_is_the_sketch_of_the_union_bit_for_bit()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 100_000).Select(_ => random.NextDouble() * 1e6).ToArray();
        var whole = new HyperLogLog();
        foreach (var value in values)
        {
            whole.Update(value);
        }

        var shards = SketchData.Shards(values, 6).Select(shard =>
        {
            var sketch = new HyperLogLog();
            foreach (var value in shard)
            {
                sketch.Update(value);
            }

            return sketch.ToBytes();
        }).ToArray();

        for (var trial = 0; trial < 4; trial++)
        {
            var order = shards.OrderBy(_ => random.Next()).Select(bytes => HyperLogLog.FromBytes(bytes)).ToList();
            var left = order[0];
            var right = order[^1];
            for (var i = 1; i < order.Count - 1; i++)
            {
                (random.Next(2) == 0 ? left : right).Merge(order[i]);
            }

            left.Merge(right);
            left.ToBytes().ShouldBe(whole.ToBytes());
        }

        var relative = Math.Abs(whole.Estimate() - values.Distinct().Count()) / values.Distinct().Count();
        relative.ShouldBeLessThan(3 * whole.RelativeStandardError);
    }

    [Fact]
    public void Serialization_round_trips_and_rejects_other_bytes()
    {
        var sketch = new HyperLogLog(10);
        for (var i = 0; i < 5_000; i++)
        {
            sketch.Update($"k{i}");
        }

        var copy = HyperLogLog.FromBytes(sketch.ToBytes());
        copy.Estimate().ShouldBe(sketch.Estimate());
        copy.Precision.ShouldBe(10);
        Should.Throw<FormatException>(() => HyperLogLog.FromBytes(sketch.ToBytes().AsSpan(0, 100)));
        Should.Throw<FormatException>(() => HyperLogLog.FromBytes(new KllSketch().ToBytes()));
        Should.Throw<ArgumentException>(() => sketch.Merge(new HyperLogLog(12)));
    }
}
