using System.Globalization;
using System.Text;
using Ballast.Features;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Features;

/// <summary>
/// Training sets from the offline store on crafted timelines (late events, ties, TTL expiry, several views, on-demand
/// features) and a seeded-random property: every joined value is the one a brute-force scan picks, never from after
/// the entity row's time.
/// </summary>
public sealed class PointInTimeJoinTests() : FolderDatabaseTest(DatabaseEngine.Sqlite, "ballast-features-pit-")
{
    private const string Stats = """
        customer_id,event_time,spend,visits
        1,2026-01-01 00:00:00,10.0,1
        1,2026-01-03 00:00:00,30.0,3
        1,2026-01-02 00:00:00,20.0,2
        2,2026-01-01 00:00:00,5.0,1
        2,2026-01-05 00:00:00,7.0,2
        2,2026-01-05 00:00:00,8.0,4
        """;

    private const string Profiles = """
        customer_id,updated_at,segment
        1,2025-12-01 00:00:00,gold
        2,2026-01-06 00:00:00,silver
        """;

    private static FeatureSetSpec Churn(string ttl = "2d") => new("churn",
        [new EntitySpec("customer", "customer_id", "int64")],
        [
            new FeatureViewSpec("customer_stats", "customer", new FeatureSourceSpec("stats"), "event_time",
                [new FeatureSpec("spend", "double"), new FeatureSpec("visits", "int64")], ttl),
            new FeatureViewSpec("customer_profile", "customer", new FeatureSourceSpec("profiles"), "updated_at", [new FeatureSpec("segment", "string")]),
        ],
        [new FeatureServiceSpec("churn_v1", ["customer_stats:*", "customer_profile:segment"], [new OnDemandFeatureSpec("spend_per_visit", "double", "spend / visits")])]);

    [Theory]
    [InlineData(PointInTimeStrategy.Auto)]
    [InlineData(PointInTimeStrategy.Asof)]
    [InlineData(PointInTimeStrategy.Range)]
    internal async Task Each_row_gets_the_latest_values_at_or_before_its_time_within_the_ttl_and_never_later(PointInTimeStrategy strategy)
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName) { Strategy = strategy };
        await stack.AddCsvAsync("stats", Stats);
        await stack.AddCsvAsync("profiles", Profiles);
        await stack.Definitions.PutAsync(Churn(), Cancel);
        var entities = stack.WriteFile("entities.csv", """
            customer_id,event_timestamp,label
            1,2026-01-02 12:00:00,0
            1,2026-01-03 00:00:00,1
            1,2026-01-01 00:00:00,0
            1,2025-12-31 23:59:59,0
            2,2026-01-04 00:00:00,1
            2,2026-01-05 00:00:00,0
            2,2026-01-07 00:00:00,0
            2,2026-01-07 00:00:01,1
            3,2026-01-05 00:00:00,1
            """);
        var output = PathIn("train.parquet");

        var result = await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("churn_v1"), entities, "entities.csv", output, cancellationToken: Cancel);

        result.Rows.ShouldBe(9);
        result.Columns.ShouldBe(["customer_id", "event_timestamp", "label", "spend", "visits", "segment", "spend_per_visit"]);
        result.Sources.ShouldBe(["stats@1", "profiles@1"]);
        var rows = FeatureTestStack.ReadParquet(output).Select(row => (row["spend"], row["visits"], row["segment"], row["spend_per_visit"], row["label"])).ToList();
        rows.ShouldBe(
        [
            (20.0, 2L, "gold", 10.0, 0L),   // the late event (listed after 01-03) is the latest at or before 01-02 12:00
            (30.0, 3L, "gold", 10.0, 1L),   // an event at exactly the row's time is included
            (10.0, 1L, "gold", 10.0, 0L),
            (null, null, "gold", null, 0L), // before the first event: nothing, not the next one
            (null, null, null, null, 1L),   // the 01-01 value is 3 days old: past the 2d TTL
            (8.0, 4L, null, 2.0, 0L),       // tie on key and time: the later row in the file wins; the profile comes a day later
            (8.0, 4L, "silver", 2.0, 0L),   // exactly 2 days old: still within the TTL
            (null, null, "silver", null, 1L), // a second past the TTL
            (null, null, null, null, 1L),   // an entity the views do not know
        ]);
    }

    [Fact]
    public async Task A_range_join_with_more_matches_than_it_allows_gives_way_to_the_asof_join()
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        // Three events of customer 1 within the 2d TTL of one entity row: more than two matches per entity row.
        await stack.AddCsvAsync("stats", "customer_id,event_time,spend,visits\n1,2026-01-01 00:00:00,10.0,1\n1,2026-01-01 12:00:00,20.0,2\n1,2026-01-02 00:00:00,30.0,3\n");
        await stack.AddCsvAsync("profiles", Profiles);
        await stack.Definitions.PutAsync(Churn(), Cancel);
        var entities = stack.WriteFile("one.csv", "customer_id,event_timestamp\n1,2026-01-02 06:00:00\n");
        var output = PathIn("one.parquet");

        var result = await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("churn_v1"), entities, "one.csv", output, cancellationToken: Cancel);

        // customer_stats (TTL 2d) tried the range join and gave way; customer_profile has no TTL, so the ASOF join from the start.
        result.Joins.ShouldBe([PointInTimeStrategy.Asof, PointInTimeStrategy.Asof]);
        FeatureTestStack.ReadParquet(output).Select(row => (row["spend"], row["segment"])).ShouldBe([(30.0, "gold")]);
    }

    [Fact]
    public async Task A_view_with_a_ttl_and_few_entity_rows_per_key_takes_the_range_join()
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        await stack.AddCsvAsync("stats", Stats);
        await stack.AddCsvAsync("profiles", Profiles);
        await stack.Definitions.PutAsync(Churn(), Cancel);
        var entities = stack.WriteFile("few.csv", "customer_id,event_timestamp\n2,2026-01-06 00:00:00\n1,2026-01-03 12:00:00\n");
        var output = PathIn("few.parquet");

        var result = await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("churn_v1"), entities, "few.csv", output, cancellationToken: Cancel);

        result.Joins.ShouldBe([PointInTimeStrategy.Range, PointInTimeStrategy.Asof]);
        FeatureTestStack.ReadParquet(output).Select(row => (row["spend"], row["visits"], row["segment"])).ShouldBe([(8.0, 4L, "silver"), (30.0, 3L, "gold")]);
    }

    [Fact]
    public async Task Int64_keys_match_however_the_files_spell_the_number()
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        await stack.AddCsvAsync("stats", Stats);
        await stack.AddCsvAsync("profiles", Profiles);
        await stack.Definitions.PutAsync(Churn(), Cancel);
        var entities = stack.WriteFile("floats.csv", "customer_id,event_timestamp\n1.0,2026-01-03 00:00:00\n2.0,2026-01-05 00:00:00\n");
        var output = PathIn("floats.parquet");

        await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("churn_v1"), entities, "floats.csv", output, cancellationToken: Cancel);

        FeatureTestStack.ReadParquet(output).Select(row => row["spend"]).ShouldBe([30.0, 8.0]);
    }

    [Fact]
    public async Task Entities_file_problems_are_all_named_at_once()
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName);
        await stack.AddCsvAsync("stats", Stats);
        await stack.AddCsvAsync("profiles", Profiles);
        await stack.Definitions.PutAsync(Churn(), Cancel);
        var entities = stack.WriteFile("bad.csv", "customer,ts,spend\n1,2026-01-01,3\n");

        var error = await Should.ThrowAsync<Ballast.Tracking.TrackingException>(() =>
            stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service("churn_v1"), entities, "bad.csv", PathIn("out.parquet"), cancellationToken: Cancel));

        error.Message.ShouldBe("The entities file has no column 'customer_id' (the join key of entity 'customer'); no column 'event_timestamp' (the time of each row; name another with timestamp_column); "
            + "a column 'spend', which is a feature of service 'churn_v1' (rename or drop it); its columns are customer, ts, spend.");
    }

    /// <summary>
    /// CSV: one file of features, entity rows numbered by DuckDB's window. Parquet: the features in two files (a tie
    /// across them goes to the second) and the entity rows in Parquet, both numbered by the reader's row numbers.
    /// </summary>
    [Theory]
    [InlineData("csv", PointInTimeStrategy.Auto)]
    [InlineData("parquet", PointInTimeStrategy.Auto)]
    [InlineData("csv", PointInTimeStrategy.Asof)]
    [InlineData("parquet", PointInTimeStrategy.Asof)]
    [InlineData("csv", PointInTimeStrategy.Range)]
    [InlineData("parquet", PointInTimeStrategy.Range)]
    internal async Task Random_timelines_join_exactly_what_a_brute_force_scan_picks_and_nothing_from_the_future(string format, PointInTimeStrategy strategy)
    {
        var stack = new FeatureTestStack(Database, Time, Root.FullName) { Strategy = strategy };
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var seed = 1; seed <= 12; seed++)
        {
            var random = new Random(seed);
            // Odd seeds: 8 keys, ~25 entity rows and ~40 feature rows each (Auto takes the ASOF join: too many entity rows
            // per key for the range join); even seeds: 200 keys, about one of each (Auto takes the range join).
            var keys = seed % 2 == 1 ? 8 : 200;
            var ttlHours = random.Next(1, 48);
            var features = new List<(int Key, DateTime At, long Id)>();
            var csv = new StringBuilder("key,at,id,seen_at\n");
            for (var i = 0; i < 300; i++)
            {
                // Hour-granular times make ties on key and time common.
                var row = (Key: random.Next(1, keys), At: start.AddHours(random.Next(0, 24 * 10)), Id: (long)i);
                features.Add(row);
                csv.Append(CultureInfo.InvariantCulture, $"{row.Key},{row.At:yyyy-MM-dd HH:mm:ss},{row.Id},{new DateTimeOffset(row.At).ToUnixTimeMilliseconds()}\n");
            }

            var dataset = $"events-{seed}";
            if (format == "csv")
            {
                await stack.AddCsvAsync(dataset, csv.ToString());
            }
            else
            {
                var lines = csv.ToString().TrimEnd('\n').Split('\n');
                await stack.AddParquetAsync(dataset,
                    ("part-0.parquet", string.Join('\n', lines[..151]) + "\n"),
                    ("part-1.parquet", lines[0] + "\n" + string.Join('\n', lines[151..]) + "\n"));
            }

            await stack.Definitions.PutAsync(new FeatureSetSpec($"random-{seed}", [new EntitySpec("thing", "key", "int64")],
                [new FeatureViewSpec($"events_{seed}", "thing", new FeatureSourceSpec(dataset), "at", [new FeatureSpec("id", "int64"), new FeatureSpec("seen_at", "int64")], $"{ttlHours}h")],
                [new FeatureServiceSpec($"random_{seed}", [$"events_{seed}:*"])]), Cancel);

            var entities = new List<(int Key, DateTime At)>();
            var entityCsv = new StringBuilder("key,event_timestamp\n");
            for (var i = 0; i < 200; i++)
            {
                var row = (Key: random.Next(1, keys + 1), At: start.AddHours(random.Next(-2, 24 * 11)).AddMinutes(random.Next(0, 2) * 30));
                entities.Add(row);
                entityCsv.Append(CultureInfo.InvariantCulture, $"{row.Key},{row.At:yyyy-MM-dd HH:mm:ss}\n");
            }

            var entitiesFile = stack.WriteFile($"entities-{seed}.csv", entityCsv.ToString());
            if (format == "parquet")
            {
                entitiesFile = FeatureTestStack.ToParquet(entitiesFile);
            }

            var output = PathIn($"train-{seed}.parquet");
            var result = await stack.Offline.TrainingSetAsync(stack.Definitions.Catalog.Service($"random_{seed}"), entitiesFile, "entities." + format, output, cancellationToken: Cancel);
            var joined = FeatureTestStack.ReadParquet(output);
            result.Joins.ShouldBe([strategy switch
            {
                PointInTimeStrategy.Auto => keys == 8 ? PointInTimeStrategy.Asof : PointInTimeStrategy.Range,
                _ => strategy,
            }], $"seed {seed}");

            joined.Count.ShouldBe(entities.Count);
            for (var i = 0; i < entities.Count; i++)
            {
                var (key, at) = entities[i];
                // Brute force: the latest at or before the row's time within the TTL; of equal times the last in the file.
                var expected = features.Where(f => f.Key == key && f.At <= at && at - f.At <= TimeSpan.FromHours(ttlHours))
                    .OrderBy(f => f.At).ThenBy(f => f.Id).LastOrDefault();
                var id = joined[i]["id"] as long?;
                id.ShouldBe(expected == default ? null : expected.Id, $"seed {seed}, row {i}: key {key} at {at:O}");
                if (joined[i]["seen_at"] is long seenAt)
                {
                    seenAt.ShouldBeLessThanOrEqualTo(new DateTimeOffset(at).ToUnixTimeMilliseconds(), "a value from after the row's time leaked in");
                }
            }
        }
    }
}
