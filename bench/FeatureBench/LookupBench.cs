using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ballast.Features;
using Ballast.Metadata;
using Microsoft.Data.Sqlite;
using StackExchange.Redis;

namespace Ballast.FeatureBench;

/// <summary>
/// Online lookups of one service's 20 features through <see cref="FeatureLookup.GetAsync"/> (what serving enrichment
/// and <c>GET/POST /api/v1/features/online</c> call), one entity at a time and in batches, against the raw read each
/// store comes down to: a SELECT by primary key on a pooled SQLite connection, a Redis HGET of the stored JSON. The
/// cases run in interleaved rounds, so a burst of load from elsewhere on the machine falls on all of them alike.
/// Each operation is timed on its own; percentiles are exact over all operations.
/// </summary>
internal static class LookupBench
{
    private const int Entities = 100_000;
    private const int Rounds = 10;
    private const string View = "customer_stats";

    public static async Task<int> RunAsync(int lookups, int batchLookups, int batch, string? redisAddress)
    {
        var folder = Directory.CreateTempSubdirectory("ballast-bench-lookup-").FullName;
        var prefix = $"ballast-bench-{Environment.ProcessId}:";
        RedisOnlineStore? redisStore = null;
        ConnectionMultiplexer? redisRaw = null;
        try
        {
            var location = DatabaseLocation.Parse("sqlite:" + Path.Combine(folder, "ballast.db"));
            await using var database = await MetadataMigrator.OpenMigratedAsync(location);
            var sets = new FeatureStore(database, TimeProvider.System);
            var features = Enumerable.Range(0, 20).Select(i => new FeatureSpec($"f{i}", i < 15 ? FeatureTypes.Double : i < 18 ? FeatureTypes.Int64 : FeatureTypes.String)).ToList();
            await sets.PutAsync(new FeatureSetSpec("bench", [new EntitySpec("customer", "customer_id", FeatureTypes.Int64)],
                [new FeatureViewSpec(View, "customer", new FeatureSourceSpec("events"), "event_time", features, "30d")],
                [new FeatureServiceSpec("bench_v1", [View + ":*"])]));
            var service = sets.Catalog.Service("bench_v1");
            var rows = Rows(TimeProvider.System.GetUtcNow().AddDays(-1).ToUnixTimeMilliseconds());

            var embedded = new EmbeddedOnlineStore(database, TimeProvider.System);
            foreach (var chunk in rows.Chunk(10_000))
            {
                await embedded.WriteAsync(View, chunk);
            }

            var cases = new List<Case>();
            var embeddedLookup = new FeatureLookup(sets, embedded, TimeProvider.System);
            var sqlite = location.ConnectionString;
            cases.Add(new Case("embedded", "single", "ballast", 1, keys => Check(embeddedLookup.GetAsync(service, keys))));
            cases.Add(new Case("embedded", "single", "baseline", 1, keys => SelectAsync(sqlite, keys)));
            cases.Add(new Case("embedded", "batch", "ballast", batch, keys => Check(embeddedLookup.GetAsync(service, keys))));
            cases.Add(new Case("embedded", "batch", "baseline", batch, keys => SelectAsync(sqlite, keys)));

            if (redisAddress is { Length: > 0 })
            {
                redisStore = await RedisOnlineStore.ConnectAsync(redisAddress, prefix);
                foreach (var chunk in rows.Chunk(10_000))
                {
                    await redisStore.WriteAsync(View, chunk);
                }

                var uri = new Uri(redisAddress);
                redisRaw = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}");
                var raw = redisRaw.GetDatabase();
                var redisLookup = new FeatureLookup(sets, redisStore, TimeProvider.System);
                cases.Add(new Case("redis", "single", "ballast", 1, keys => Check(redisLookup.GetAsync(service, keys))));
                cases.Add(new Case("redis", "single", "baseline", 1, keys => HashGetAsync(raw, prefix, keys)));
                cases.Add(new Case("redis", "batch", "ballast", batch, keys => Check(redisLookup.GetAsync(service, keys))));
                cases.Add(new Case("redis", "batch", "baseline", batch, keys => HashGetAsync(raw, prefix, keys)));
            }

            var random = new Random(8);
            foreach (var run in cases)
            {
                // Warm-up: JIT, pooled connections, SQLite's page cache.
                for (var i = 0; i < 1000; i++)
                {
                    await run.Operation(Keys(random, run.Batch));
                }
            }

            foreach (var run in cases)
            {
                run.Timings = new long[(run.Batch == 1 ? lookups : batchLookups) / Rounds * Rounds];
            }

            for (var round = 0; round < Rounds; round++)
            {
                foreach (var run in cases)
                {
                    var allocated = GC.GetTotalAllocatedBytes(precise: false);
                    var perRound = run.Timings.Length / Rounds;
                    for (var i = 0; i < perRound; i++)
                    {
                        var keys = Keys(random, run.Batch);
                        var start = Stopwatch.GetTimestamp();
                        await run.Operation(keys);
                        run.Timings[(round * perRound) + i] = Stopwatch.GetTimestamp() - start;
                    }

                    run.Allocated += GC.GetTotalAllocatedBytes(precise: false) - allocated;
                }
            }

            foreach (var run in cases)
            {
                Array.Sort(run.Timings);
                var json = new StringBuilder()
                    .Append(CultureInfo.InvariantCulture, $"{{\"store\":\"{run.Store}\",\"shape\":\"{run.Shape}\",\"code\":\"{run.Code}\",\"keys\":{run.Batch},\"operations\":{run.Timings.Length}")
                    .Append(CultureInfo.InvariantCulture, $",\"mean_us\":{Micro(run.Timings.Average()):F1}")
                    .Append(CultureInfo.InvariantCulture, $",\"p50_us\":{Micro(Percentile(run.Timings, 0.50)):F1},\"p90_us\":{Micro(Percentile(run.Timings, 0.90)):F1}")
                    .Append(CultureInfo.InvariantCulture, $",\"p99_us\":{Micro(Percentile(run.Timings, 0.99)):F1},\"p999_us\":{Micro(Percentile(run.Timings, 0.999)):F1}")
                    .Append(CultureInfo.InvariantCulture, $",\"max_us\":{Micro(run.Timings[^1]):F1},\"allocated_bytes\":{run.Allocated / run.Timings.Length}}}");
                Console.WriteLine(json);
            }

            return 0;
        }
        finally
        {
            if (redisStore is not null)
            {
                await redisStore.DeleteViewAsync(View);
                await redisStore.DisposeAsync();
            }

            if (redisRaw is not null)
            {
                await redisRaw.DisposeAsync();
            }

            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>20 features per entity as materialization stores them: 15 doubles, 3 integers, 2 strings.</summary>
    private static List<OnlineRow> Rows(long eventAt)
    {
        var random = new Random(20);
        var rows = new List<OnlineRow>(Entities);
        var json = new StringBuilder();
        for (var entity = 0; entity < Entities; entity++)
        {
            json.Clear().Append('{');
            for (var f = 0; f < 20; f++)
            {
                json.Append(CultureInfo.InvariantCulture, $"{(f == 0 ? "" : ",")}\"f{f}\":");
                if (f < 15)
                {
                    json.Append((random.NextDouble() * 1000).ToString("R", CultureInfo.InvariantCulture));
                }
                else if (f < 18)
                {
                    json.Append(random.Next(0, 1000).ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    json.Append(CultureInfo.InvariantCulture, $"\"segment-{random.Next(0, 7)}\"");
                }
            }

            rows.Add(new OnlineRow(entity.ToString(CultureInfo.InvariantCulture), eventAt, json.Append('}').ToString()));
        }

        return rows;
    }

    private static string[] Keys(Random random, int count)
    {
        var keys = new string[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = random.Next(0, Entities).ToString(CultureInfo.InvariantCulture);
        }

        return keys;
    }

    private static async Task Check(Task<IReadOnlyList<FeatureRow>> lookup)
    {
        var rows = await lookup;
        if (rows[0].Missing.Count > 0)
        {
            throw new InvalidOperationException($"entity {rows[0].Entity} is missing {string.Join(", ", rows[0].Missing)}: the bench's data is not what it looks up");
        }
    }

    /// <summary>The embedded store's floor: a pooled connection and one SELECT by the primary key (an IN list for a batch), reading the stored JSON.</summary>
    private static async Task SelectAsync(string connectionString, string[] keys)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        var names = new StringBuilder();
        for (var i = 0; i < keys.Length; i++)
        {
            names.Append(i == 0 ? "$k0" : $", $k{i}");
            command.Parameters.AddWithValue($"$k{i}", keys[i]);
        }

        command.CommandText = $"SELECT entity_key, event_at, feature_values FROM feature_online WHERE view_name = $view AND entity_key IN ({names})";
        command.Parameters.AddWithValue("$view", View);
        await using var reader = await command.ExecuteReaderAsync();
        var found = 0;
        while (await reader.ReadAsync())
        {
            found += reader.GetString(2).Length > 0 ? 1 : 0;
        }

        if (found == 0)
        {
            throw new InvalidOperationException("the raw SELECT found nothing");
        }
    }

    /// <summary>Redis's floor: HGET of the stored JSON per key, pipelined for a batch.</summary>
    private static async Task HashGetAsync(IDatabase database, string prefix, string[] keys)
    {
        if (keys.Length == 1)
        {
            var value = await database.HashGetAsync(prefix + View + ":" + keys[0], "v");
            if (value.IsNull)
            {
                throw new InvalidOperationException("the raw HGET found nothing");
            }

            return;
        }

        var batch = database.CreateBatch();
        var pending = new Task<RedisValue>[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            pending[i] = batch.HashGetAsync(prefix + View + ":" + keys[i], "v");
        }

        batch.Execute();
        await Task.WhenAll(pending);
    }

    private static double Percentile(long[] sorted, double quantile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static double Micro(double ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    private sealed class Case(string store, string shape, string code, int batch, Func<string[], Task> operation)
    {
        public string Store { get; } = store;

        public string Shape { get; } = shape;

        public string Code { get; } = code;

        public int Batch { get; } = batch;

        public Func<string[], Task> Operation { get; } = operation;

        public long[] Timings { get; set; } = [];

        public long Allocated { get; set; }
    }
}
