using Ballast.Features;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Features;

/// <summary>Materialization into the embedded online store on SQLite and PostgreSQL: incremental, idempotent, TTL-aware lookups, and the consistency check.</summary>
public abstract class MaterializationTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-features-mat-")
{
    private static long At(int day, int hour = 0) => new DateTimeOffset(2026, 12, day, hour, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private const string Events = """
        customer_id,event_time,spend,tier
        1,2026-12-01 00:00:00,10.0,a
        2,2026-12-01 00:00:00,5.0,b
        1,2026-12-03 00:00:00,30.0,a
        1,2026-12-02 00:00:00,20.0,c
        3,2026-12-04 00:00:00,1.0,d
        """;

    private static FeatureSetSpec Spec(string ttl = "30d") => new("churn", [new EntitySpec("customer", "customer_id")],
        [new FeatureViewSpec("customer_stats", "customer", new FeatureSourceSpec("events"), "event_time", [new FeatureSpec("spend", "double"), new FeatureSpec("tier", "string")], ttl)],
        [new FeatureServiceSpec("churn_v1", ["customer_stats:*"])]);

    private async Task<FeatureTestStack> StackAsync(string ttl = "30d")
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        await stack.AddCsvAsync("events", Events);
        await stack.Definitions.PutAsync(Spec(ttl), Cancel);
        return stack;
    }

    [Fact]
    public async Task Materialization_is_incremental_and_a_repeat_changes_nothing()
    {
        var stack = await StackAsync();

        var first = (await stack.Materializer.MaterializeAsync(At(2), cancellationToken: Cancel)).ShouldHaveSingleItem();
        first.ShouldBe(new MaterializationResult("customer_stats", "events@1", null, At(2), 2, 2));
        (await stack.Online.ReadAsync("customer_stats", ["1", "2", "3"], Cancel)).Select(row => row?.Values)
            .ShouldBe(["""{"spend":20.0,"tier":"c"}""", """{"spend":5.0,"tier":"b"}""", null]);

        var again = (await stack.Materializer.MaterializeAsync(At(2), cancellationToken: Cancel)).ShouldHaveSingleItem();
        again.ShouldBe(new MaterializationResult("customer_stats", "events@1", At(2), At(2), 0, 0));

        var next = (await stack.Materializer.MaterializeAsync(At(5), cancellationToken: Cancel)).ShouldHaveSingleItem();
        next.ShouldBe(new MaterializationResult("customer_stats", "events@1", At(2), At(5), 2, 2), "only rows after the watermark are read");
        (await stack.Online.ReadAsync("customer_stats", ["1", "2", "3"], Cancel)).Select(row => row?.EventAt).ShouldBe([At(3), At(1), At(4)]);
    }

    // DuckDB's cast to BIGINT rounds 2.5 to 3: the row would have become another customer's. A dataset version is fixed
    // and can be corrected with a new one, so it is refused, as a training set's entities file is.
    [Fact]
    public async Task An_int64_key_with_a_fraction_refuses_the_dataset_naming_the_column_and_the_values()
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        await stack.AddCsvAsync("events", "customer_id,event_time,spend,tier\n1,2026-12-01 00:00:00,10.0,a\n2.5,2026-12-01 00:00:00,5.0,b\n3.0,2026-12-01 00:00:00,7.0,c\n");
        await stack.Definitions.PutAsync(Spec() with { Entities = [new EntitySpec("customer", "customer_id", "int64")] }, Cancel);

        var result = (await stack.Materializer.MaterializeAsync(At(2), cancellationToken: Cancel)).ShouldHaveSingleItem();
        result.Error.ShouldBe("Feature view 'customer_stats': dataset events@1 has 'customer_id' values that are not whole numbers (2.5); entity 'customer' has int64 keys.");
        (await stack.Online.ReadAsync("customer_stats", ["1", "2", "3"], Cancel)).ShouldAllBe(row => row == null);

        // Whole numbers written with a fraction (3.0) are keys: a version without 2.5 is materialized, 3.0 as customer 3.
        await stack.AddCsvAsync("events", "customer_id,event_time,spend,tier\n1,2026-12-01 00:00:00,10.0,a\n3.0,2026-12-01 00:00:00,7.0,c\n");
        (await stack.Materializer.MaterializeAsync(At(2), cancellationToken: Cancel)).ShouldHaveSingleItem().Error.ShouldBeNull();
        (await stack.Online.ReadAsync("customer_stats", ["1", "3"], Cancel)).Select(row => row?.Values).ShouldBe(["""{"spend":10.0,"tier":"a"}""", """{"spend":7.0,"tier":"c"}"""]);
    }

    // Views run in name order, and the first failure once ended the run: a broken view starved every view after it.
    [Fact]
    public async Task A_view_that_fails_is_reported_and_the_others_are_still_materialized()
    {
        var stack = await StackAsync();
        var broken = new FeatureViewSpec("a_broken", "customer", new FeatureSourceSpec("missing"), "event_time", [new FeatureSpec("spend", "double")], "30d");
        await stack.Definitions.PutAsync(Spec() with { Name = "other", Views = [broken], Services = [] }, Cancel);

        var results = await stack.Materializer.MaterializeAsync(At(2), cancellationToken: Cancel);

        results.Select(result => (result.View, result.Error is null)).ShouldBe([("a_broken", false), ("customer_stats", true)]);
        results[0].Error!.ShouldContain("missing");
        results[1].Changed.ShouldBe(2);
    }

    [Fact]
    public async Task Incremental_runs_end_where_one_full_run_does_and_a_new_version_starts_over()
    {
        var stack = await StackAsync();
        foreach (var day in new[] { 1, 2, 3, 4 })
        {
            await stack.Materializer.MaterializeAsync(At(day, 12), cancellationToken: Cancel);
        }

        var incremental = await stack.Online.ReadAsync("customer_stats", ["1", "2", "3"], Cancel);
        var other = new FeatureTestStack(Database, Time, Root.FullName);
        await other.Online.DeleteViewAsync("customer_stats", Cancel);
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "DELETE FROM feature_materializations");
        }

        await other.Materializer.MaterializeAsync(At(4, 12), cancellationToken: Cancel);
        (await other.Online.ReadAsync("customer_stats", ["1", "2", "3"], Cancel)).ShouldBe(incremental);

        // A new dataset version (a late correction for customer 2) is read from the start; unchanged keys stay unchanged.
        await stack.AddCsvAsync("events", Events + "\n2,2026-12-02 00:00:00,6.0,b\n");
        var rerun = (await stack.Materializer.MaterializeAsync(At(4, 12), cancellationToken: Cancel)).ShouldHaveSingleItem();
        rerun.ShouldBe(new MaterializationResult("customer_stats", "events@2", null, At(4, 12), 3, 1));
        (await stack.Online.ReadAsync("customer_stats", ["2"], Cancel)).ShouldHaveSingleItem()!.Values.ShouldBe("""{"spend":6.0,"tier":"b"}""");
    }

    [Fact]
    public async Task Lookups_treat_values_older_than_the_ttl_as_missing()
    {
        var stack = await StackAsync(ttl: "2d");
        await stack.Materializer.MaterializeAsync(At(5), cancellationToken: Cancel);
        var lookup = new FeatureLookup(stack.Definitions, stack.Online, Time);
        var service = stack.Definitions.Catalog.Service("churn_v1");
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(5)));

        var rows = await lookup.GetAsync(service, ["1", "2", "9"], Cancel);

        rows[0].Values.Select(value => value?.GetRawText()).ShouldBe(["30.0", "\"a\""]);
        rows[0].Missing.ShouldBeEmpty();
        rows[1].Missing.ShouldBe(["spend", "tier"], "customer 2's value is 4 days old, past the 2d TTL");
        rows[2].Missing.ShouldBe(["spend", "tier"]);
    }

    [Fact]
    public async Task The_consistency_check_reports_the_share_of_sampled_entities_the_online_store_gets_wrong()
    {
        var stack = await StackAsync();
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(6)));
        await stack.Materializer.MaterializeAsync(At(6), cancellationToken: Cancel);
        var consistency = new FeatureConsistency(stack.Offline, stack.Online, Time);
        var service = stack.Definitions.Catalog.Service("churn_v1");

        (await consistency.CheckAsync(service, 10, seed: 1, Cancel)).SkewRate.ShouldBe(0);

        // Something wrote a stale value for customer 3 and lost customer 2.
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE feature_online SET feature_values = '{\"spend\":9.0,\"tier\":\"d\"}' WHERE entity_key = '3'");
            await Dapper.SqlMapper.ExecuteAsync(connection, "DELETE FROM feature_online WHERE entity_key = '2'");
        }

        var report = await consistency.CheckAsync(service, 10, seed: 1, Cancel);

        report.Sampled.ShouldBe(3);
        report.Skewed.ShouldBe(2);
        report.SkewRate.ShouldBe(2.0 / 3, 1e-12);
        report.Views.ShouldHaveSingleItem().Examples.ShouldBe(["2: not in the online store", "3: feature 'spend' is 9.0 online, 1.0 offline"]);
    }
}

public sealed class SqliteMaterializationTests() : MaterializationTests(DatabaseEngine.Sqlite);

public sealed class PostgresMaterializationTests() : MaterializationTests(DatabaseEngine.Postgres);
