using Ballast.Monitoring.Sketches;

namespace Ballast.Tests.Monitoring.Sketches;

// Bound: DataSketches KllSketch.getNormalizedRankError(k, false) = 2.296 / k^0.9723 (1.33% at k = 200, 99% confidence);
// the fit and the 1.65% double-sided figure are from the Apache DataSketches KLL documentation.
public sealed class KllSketchTests
{
    private const int N = 100_000;
    private static readonly double Bound = KllSketch.NormalizedRankError(KllSketch.DefaultK);
    private static readonly double[] Probes = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];

    [Fact]
    public void Error_bounds_match_the_DataSketches_figures_at_k_200()
    {
        KllSketch.NormalizedRankError(200).ShouldBe(0.0133, 0.0005);
        KllSketch.NormalizedPmfError(200).ShouldBe(0.0165, 0.0005);
    }

    [Theory]
    [InlineData("uniform", 1)]
    [InlineData("normal", 2)]
    [InlineData("cauchy", 3)]
    public void Ranks_and_quantiles_are_within_the_bound_of_the_exact_answer(string distribution, int seed)
    {
        var values = SketchData.ByName(distribution, N, seed);
        var sketch = new KllSketch();
        foreach (var value in values)
        {
            sketch.Update(value);
        }

        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        sketch.Count.ShouldBe(N);
        sketch.Min.ShouldBe(sorted[0]);
        sketch.Max.ShouldBe(sorted[^1]);
        sketch.RetainedItems.ShouldBeLessThan(4 * KllSketch.DefaultK);
        MaxRankError(sketch, sorted).ShouldBeLessThanOrEqualTo(Bound);
    }

    [Theory]
    [InlineData("uniform", 11)]
    [InlineData("normal", 12)]
    [InlineData("cauchy", 13)]
    public void Merging_shards_in_any_grouping_and_order_stays_within_the_bound(string distribution, int seed)
    {
        var values = SketchData.ByName(distribution, N, seed);
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var shards = SketchData.Shards(values, 8).Select((shard, i) => Build(shard, (ulong)(seed * 100 + i))).ToArray();
        var single = Build(values, 7);
        var random = new Random(seed);
        for (var trial = 0; trial < 5; trial++)
        {
            var merged = MergeRandomTree(shards.Select(Copy).ToList(), random);
            merged.Count.ShouldBe(N);
            merged.Min.ShouldBe(sorted[0]);
            merged.Max.ShouldBe(sorted[^1]);
            MaxRankError(merged, sorted).ShouldBeLessThanOrEqualTo(Bound);
            foreach (var q in Probes)
            {
                // Both answers are within ε of the truth, so within 2ε of each other.
                Math.Abs(merged.Rank(single.Quantile(q)) - single.Rank(single.Quantile(q))).ShouldBeLessThanOrEqualTo(2 * Bound);
            }
        }
    }

    [Fact]
    public void Serialization_round_trips_and_the_copy_keeps_updating_like_the_original()
    {
        var original = Build(SketchData.Normal(20_000, 5), 9);
        var bytes = original.ToBytes();
        var copy = KllSketch.FromBytes(bytes);
        copy.ToBytes().ShouldBe(bytes);
        copy.Count.ShouldBe(original.Count);
        foreach (var q in Probes)
        {
            copy.Quantile(q).ShouldBe(original.Quantile(q));
        }

        foreach (var value in SketchData.Uniform(5_000, 6))
        {
            original.Update(value);
            copy.Update(value);
        }

        copy.ToBytes().ShouldBe(original.ToBytes());
        bytes.Length.ShouldBeLessThan(8 * 4 * KllSketch.DefaultK);
    }

    [Fact]
    public void Corrupt_or_truncated_bytes_are_rejected_with_a_format_error()
    {
        var bytes = Build(SketchData.Uniform(1_000, 4), 1).ToBytes();
        Should.Throw<FormatException>(() => KllSketch.FromBytes(bytes.AsSpan(0, bytes.Length - 3)));
        var wrongVersion = (byte[])bytes.Clone();
        wrongVersion[3] = 99;
        Should.Throw<FormatException>(() => KllSketch.FromBytes(wrongVersion)).Message.ShouldContain("version 99");
    }

    [Fact]
    public void Small_streams_are_exact_and_empty_sketches_answer_NaN()
    {
        var empty = new KllSketch();
        empty.Rank(1).ShouldBe(double.NaN);
        empty.Quantile(0.5).ShouldBe(double.NaN);
        var small = Build([5, 1, 3, 2, 4, double.NaN], 1);
        small.Count.ShouldBe(5);
        small.Quantile(0.5).ShouldBe(3);
        small.Rank(2).ShouldBe(0.4);
        small.Quantile(1).ShouldBe(5);
        small.Quantile(0).ShouldBe(1);
    }

    [Fact]
    public void Sketches_with_different_k_do_not_merge()
    {
        Should.Throw<ArgumentException>(() => new KllSketch(200).Merge(new KllSketch(100)));
    }

    internal static double MaxRankError(KllSketch sketch, double[] sorted)
    {
        var worst = 0.0;
        foreach (var q in Probes)
        {
            var x = sorted[(int)(q * (sorted.Length - 1))];
            worst = Math.Max(worst, Math.Abs(sketch.Rank(x) - SketchData.ExactRank(sorted, x)));
            var estimate = sketch.Quantile(q);
            // The quantile's true rank must be within ε of q.
            var trueRank = SketchData.ExactRank(sorted, estimate);
            worst = Math.Max(worst, Math.Max(0, Math.Abs(trueRank - q) - (1.0 / sorted.Length)));
        }

        return worst;
    }

    private static KllSketch Build(double[] values, ulong seed)
    {
        var sketch = new KllSketch(seed: seed);
        foreach (var value in values)
        {
            sketch.Update(value);
        }

        return sketch;
    }

    private static KllSketch Copy(KllSketch sketch) => KllSketch.FromBytes(sketch.ToBytes());

    private static KllSketch MergeRandomTree(List<KllSketch> sketches, Random random)
    {
        while (sketches.Count > 1)
        {
            var i = random.Next(sketches.Count);
            var a = sketches[i];
            sketches.RemoveAt(i);
            var j = random.Next(sketches.Count);
            var b = sketches[j];
            sketches.RemoveAt(j);
            a.Merge(b);
            sketches.Add(a);
        }

        return sketches[0];
    }
}
