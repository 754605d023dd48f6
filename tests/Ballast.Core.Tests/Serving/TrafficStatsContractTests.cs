using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Serving;

public abstract class TrafficStatsContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Two_replicas_counts_merge_per_variant_and_repeated_flushes_do_not_double_count()
    {
        var one = new TrafficStats(Database, Time);
        var two = new TrafficStats(Database, Time);
        var start = Time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < 98; i++)
        {
            one.Record("iris", "a", 2.0, error: false);
        }

        one.Record("iris", "a", 40.0, error: true);
        two.Record("iris", "a", 40.0, error: true);
        two.Record("iris", "b", 1.0, error: false);
        await one.FlushAsync(Cancel);
        await one.FlushAsync(Cancel);
        await two.FlushAsync(Cancel);

        var window = await one.WindowAsync("iris", start, start + 9_999, Cancel);
        var a = window.Single(variant => variant.Variant == "a");
        (a.Requests, a.Errors).ShouldBe((100L, 2L));
        a.ErrorRate.ShouldBe(0.02);
        a.LatencyMeanMs.ShouldBe(((98 * 2.0) + 80) / 100, 1e-9);
        // Buckets grow by 1.25: a quantile is the upper bound of its bucket, within 25% above the true value.
        a.LatencyP50Ms.ShouldBeInRange(2.0, 2.5);
        a.LatencyP99Ms.ShouldBeInRange(40.0, 50.0);
        window.Single(variant => variant.Variant == "b").Requests.ShouldBe(1);

        // Buckets move on: an old bucket's totals stay in the store after this replica forgets them.
        Time.Advance(TimeSpan.FromMinutes(3));
        one.Record("iris", "a", 2.0, error: false);
        await one.FlushAsync(Cancel);
        (await one.WindowAsync("iris", start, start + 9_999, Cancel)).Single(variant => variant.Variant == "a").Requests.ShouldBe(100);
        (await one.WindowAsync("iris", start, Time.GetUtcNow().ToUnixTimeMilliseconds(), Cancel)).Single(variant => variant.Variant == "a").Requests.ShouldBe(101);
        (await one.WindowAsync("other", start, start + 60_000, Cancel)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0.05, 0)]
    [InlineData(0.1, 0)]
    [InlineData(0.11, 1)]
    [InlineData(1.0, 11)]
    public void Latency_buckets_grow_by_a_quarter(double milliseconds, int bucket)
    {
        LatencyBuckets.Of(milliseconds).ShouldBe(bucket);
        LatencyBuckets.UpperBound(bucket).ShouldBeGreaterThanOrEqualTo(milliseconds);
    }
}

public sealed class SqliteTrafficStatsTests() : TrafficStatsContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresTrafficStatsTests() : TrafficStatsContractTests(DatabaseEngine.Postgres);
