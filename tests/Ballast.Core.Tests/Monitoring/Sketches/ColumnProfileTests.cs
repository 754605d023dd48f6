using System.Globalization;
using Ballast.Monitoring.Sketches;
using Ballast.Statistics.Drift;

namespace Ballast.Tests.Monitoring.Sketches;

public sealed class ColumnProfileTests
{
    [Fact]
    public void Numerical_profile_counts_nulls_and_mismatches_and_merges_replicas_like_one_pass()
    {
        var values = SketchData.Normal(30_000, 21);
        var raw = values.Select((v, i) => (i % 97) switch
        {
            0 => null,
            1 => "n/a",
            2 => "NaN",
            _ => v.ToString("R", CultureInfo.InvariantCulture),
        }).ToArray();
        var bins = HistogramBins.Linspace(-3, 3, 12);
        var whole = ColumnProfile.Numerical("amount", bins);
        foreach (var text in raw)
        {
            whole.Update(text);
        }

        var replicas = Enumerable.Range(0, 3).Select(r => ColumnProfile.Numerical("amount", bins, seed: (ulong)r + 1)).ToArray();
        for (var i = 0; i < raw.Length; i++)
        {
            replicas[i % 3].Update(raw[i]);
        }

        var merged = ColumnProfile.FromBytes(replicas[2].ToBytes());
        merged.Merge(ColumnProfile.FromBytes(replicas[0].ToBytes()));
        merged.Merge(replicas[1]);

        var expectedNulls = raw.Count(text => text is null || text == "NaN");
        var expectedMismatches = raw.Count(text => text == "n/a");
        foreach (var profile in new[] { whole, merged })
        {
            profile.Rows.ShouldBe(raw.Length);
            profile.Nulls.ShouldBe(expectedNulls);
            profile.TypeMismatches.ShouldBe(expectedMismatches);
            profile.Quantiles!.Count.ShouldBe(raw.Length - expectedNulls - expectedMismatches);
        }

        merged.Histogram!.ToBytes().ShouldBe(whole.Histogram!.ToBytes());
        var bound = KllSketch.NormalizedRankError(KllSketch.DefaultK);
        foreach (var q in new[] { 0.05, 0.5, 0.95 })
        {
            Math.Abs(merged.Quantiles!.Rank(whole.Quantiles!.Quantile(q)) - q).ShouldBeLessThanOrEqualTo(2 * bound);
        }
    }

    [Fact]
    public void Categorical_profile_keeps_frequent_items_and_distinct_count_and_round_trips()
    {
        var profile = ColumnProfile.Categorical("country", capacity: 8);
        var other = ColumnProfile.Categorical("country", capacity: 8);
        foreach (var value in new[] { "NL", "DE", "NL", null, "", "FR", "NL" })
        {
            profile.Update(value);
            other.Update(value);
        }

        other.Update(3.5);
        profile.Merge(other);
        profile.Rows.ShouldBe(15);
        profile.Nulls.ShouldBe(4);
        profile.TypeMismatches.ShouldBe(0);
        profile.FrequentItems!.Estimate("NL").ShouldBe(6);
        profile.Distinct!.Estimate().ShouldBe(4, 0.1);
        ColumnProfile.FromBytes(profile.ToBytes()).ToBytes().ShouldBe(profile.ToBytes());
    }

    [Fact]
    public void Profiles_of_different_columns_or_parameters_do_not_merge_and_stay_unchanged()
    {
        var profile = ColumnProfile.Numerical("a", HistogramBins.Linspace(0, 1, 4));
        profile.Update(0.5);
        var before = profile.ToBytes();
        Should.Throw<ArgumentException>(() => profile.Merge(ColumnProfile.Numerical("b", HistogramBins.Linspace(0, 1, 4))));
        Should.Throw<ArgumentException>(() => profile.Merge(ColumnProfile.Categorical("a")));
        Should.Throw<ArgumentException>(() => profile.Merge(ColumnProfile.Numerical("a", HistogramBins.Linspace(0, 2, 4))));
        Should.Throw<ArgumentException>(() => profile.Merge(ColumnProfile.Numerical("a", HistogramBins.Linspace(0, 1, 4), k: 100)));
        profile.ToBytes().ShouldBe(before);
    }
}
