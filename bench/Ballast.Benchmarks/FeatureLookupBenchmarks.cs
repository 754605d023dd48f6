using BenchmarkDotNet.Attributes;
using Ballast.Features;
using Ballast.Metadata;

namespace Ballast.Benchmarks;

/// <summary>
/// Online lookup of one entity's 20 features of a service, as serving does per request: the embedded store (SQLite)
/// and Redis on loopback (set BALLAST_BENCH_REDIS=redis://127.0.0.1:PORT; skipped otherwise). Goal: p99 under 1 ms.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class FeatureLookupBenchmarks
{
    private const int Entities = 10_000;
    private const int Features = 20;

    private string _folder = "";
    private MetadataDatabase _database = null!;
    private FeatureLookup _embedded = null!;
    private FeatureLookup? _redis;
    private RedisOnlineStore? _redisStore;
    private ResolvedService _service = null!;
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ballast-bench-features-").FullName;
        _database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(_folder, "ballast.db")));
        var sets = new FeatureStore(_database, TimeProvider.System);
        var features = Enumerable.Range(0, Features).Select(i => new FeatureSpec($"f{i}", FeatureTypes.Double)).ToList();
        await sets.PutAsync(new FeatureSetSpec("bench", [new EntitySpec("customer", "customer_id")],
            [new FeatureViewSpec("stats", "customer", new FeatureSourceSpec("unused"), "event_time", features)],
            [new FeatureServiceSpec("bench_v1", ["stats:*"])]));
        _service = sets.Catalog.Service("bench_v1");
        var rows = Enumerable.Range(0, Entities).Select(i => new OnlineRow(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 1,
            "{" + string.Join(",", Enumerable.Range(0, Features).Select(f => $"\"f{f}\":{i + f * 0.5}")) + "}")).ToList();
        var embedded = new EmbeddedOnlineStore(_database, TimeProvider.System);
        await embedded.WriteAsync("stats", rows);
        _embedded = new FeatureLookup(sets, embedded, TimeProvider.System);
        if (Environment.GetEnvironmentVariable("BALLAST_BENCH_REDIS") is { Length: > 0 } redis)
        {
            _redisStore = await RedisOnlineStore.ConnectAsync(redis, $"ballast-bench-{Guid.NewGuid():N}:");
            await _redisStore.WriteAsync("stats", rows);
            _redis = new FeatureLookup(sets, _redisStore, TimeProvider.System);
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_redisStore is not null)
        {
            await _redisStore.DeleteViewAsync("stats");
            await _redisStore.DisposeAsync();
        }

        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private string NextKey() => (_next++ % Entities).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Benchmark(Baseline = true)]
    public Task<IReadOnlyList<FeatureRow>> Embedded() => _embedded.GetAsync(_service, [NextKey()]);

    [Benchmark]
    public Task<IReadOnlyList<FeatureRow>> Redis() => (_redis ?? _embedded).GetAsync(_service, [NextKey()]);

    private sealed class PercentileConfig : BenchmarkDotNet.Configs.ManualConfig
    {
        public PercentileConfig() => AddColumn(BenchmarkDotNet.Columns.StatisticColumn.P95, BenchmarkDotNet.Columns.StatisticColumn.P100);
    }
}
