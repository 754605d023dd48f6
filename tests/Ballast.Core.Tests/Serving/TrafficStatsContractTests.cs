using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tests.Metadata;
using Dapper;

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

    /// <summary>
    /// Requests forced with <c>Ballast-Variant</c> count in the totals and, apart, as forced, over replicas and flushes;
    /// the routed error rate (what an experiment's guardrail reads) leaves them out. A row written before M0036 (no
    /// forced counts) reads as all routed.
    /// </summary>
    [Fact]
    public async Task Forced_requests_count_in_the_totals_and_apart_and_the_routed_error_rate_leaves_them_out()
    {
        var one = new TrafficStats(Database, Time);
        var two = new TrafficStats(Database, Time);
        var start = Time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < 10; i++)
        {
            one.Record("iris", "b", 2.0, error: i == 0);
            one.Record("iris", "b", 3.0, error: true, forced: true);
        }

        two.Record("iris", "b", 3.0, error: false, forced: true);
        two.Record("iris", "b", 3.0, error: false, rejected: true, forced: true);
        two.Record("iris", "a", 1.0, error: false);
        await one.FlushAsync(Cancel);
        await one.FlushAsync(Cancel);
        await two.FlushAsync(Cancel);

        var window = await one.WindowAsync("iris", start, start + 9_999, Cancel);
        var b = window.Single(variant => variant.Variant == "b");
        (b.Requests, b.Errors, b.Rejected, b.ForcedRequests, b.ForcedErrors).ShouldBe((22L, 11L, 1L, 12L, 10L));
        b.ErrorRate.ShouldBe(11.0 / 22);
        b.RoutedErrorRate.ShouldBe(1.0 / 10);
        var a = window.Single(variant => variant.Variant == "a");
        (a.Requests, a.ForcedRequests, a.ForcedErrors, a.RoutedErrorRate).ShouldBe((1L, 0L, 0L, 0.0));

        // Only forced requests: no routed ones, so no routed error rate (0, as for a variant without traffic).
        two.Record("iris", "c", 3.0, error: true, forced: true);
        await two.FlushAsync(Cancel);
        var c = (await one.WindowAsync("iris", start, start + 9_999, Cancel)).Single(variant => variant.Variant == "c");
        (c.ErrorRate, c.RoutedErrorRate).ShouldBe((1.0, 0.0));

        // A row as M0014 wrote it, before forced requests were told apart: the columns' default counts them as routed.
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            await connection.ExecuteAsync(
                "INSERT INTO traffic_stats (endpoint, variant, bucket, instance, requests, errors, rejected, disagreed, latency_sum_ms, latency_buckets) " +
                "VALUES ('iris', 'a', @bucket, 'old', 4, 2, 0, 0, 8.0, '10:4')", new { bucket = start / TrafficStats.BucketMs * TrafficStats.BucketMs });
        }

        a = (await one.WindowAsync("iris", start, start + 9_999, Cancel)).Single(variant => variant.Variant == "a");
        (a.Requests, a.Errors, a.ForcedRequests, a.ForcedErrors).ShouldBe((5L, 2L, 0L, 0L));
        a.RoutedErrorRate.ShouldBe(2.0 / 5);
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
