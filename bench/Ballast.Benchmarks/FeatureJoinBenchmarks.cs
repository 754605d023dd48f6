using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Ballast.Datasets;
using Ballast.Features;
using Ballast.Metadata;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Benchmarks;

/// <summary>
/// A point-in-time training set (<see cref="OfflineStore.TrainingSetAsync"/>: one view, 3 features, TTL) over
/// <see cref="FeatureRows"/> feature rows and <see cref="EntityRows"/> entity rows, against the plain DuckDB ASOF join
/// of the same Parquet files in the same run (goal: the feature store within 0.8× of it). Run with
/// <c>--filter *FeatureJoin*</c>; the defaults are the issue's 10M × 1M.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class FeatureJoinBenchmarks
{
    private string _folder = "";
    private MetadataDatabase _database = null!;
    private OfflineStore _offline = null!;
    private ResolvedService _service = null!;
    private string _features = "";
    private string _entities = "";

    [Params(10_000_000)]
    public int FeatureRows { get; set; }

    [Params(1_000_000)]
    public int EntityRows { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ballast-bench-join-").FullName;
        _features = Path.Combine(_folder, "features.parquet");
        _entities = Path.Combine(_folder, "entities.parquet");
        using (var connection = new DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                $"COPY (SELECT i % 100000 AS customer_id, TIMESTAMP '2026-01-01' + to_seconds(CAST(hash(i) % 31536000 AS BIGINT)) AS event_time, " +
                $"random() AS spend, CAST(i % 50 AS BIGINT) AS orders, 'segment-' || (i % 7) AS segment FROM range({FeatureRows}) t(i)) TO '{_features}' (FORMAT parquet);" +
                $"COPY (SELECT i % 100000 AS customer_id, TIMESTAMP '2026-01-01' + to_seconds(CAST(hash(i + 7) % 31536000 AS BIGINT)) AS event_timestamp, i % 2 AS label " +
                $"FROM range({EntityRows}) t(i)) TO '{_entities}' (FORMAT parquet);";
            command.ExecuteNonQuery();
        }

        _database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(_folder, "ballast.db")));
        var artifacts = ArtifactStoreFactory.Create(Path.Combine(_folder, "artifacts"), null, null);
        var datasets = new DatasetStore(_database, artifacts, TimeProvider.System, new DatasetProfiler());
        string sha;
        await using (var file = File.OpenRead(_features))
        {
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        }

        await using (var file = File.OpenRead(_features))
        {
            await datasets.PutBlobAsync(sha, file);
        }

        await datasets.AddVersionAsync("events", [new DatasetFile("features.parquet", new FileInfo(_features).Length, sha)]);
        var sets = new FeatureStore(_database, TimeProvider.System);
        await sets.PutAsync(new FeatureSetSpec("bench", [new EntitySpec("customer", "customer_id", FeatureTypes.Int64)],
            [new FeatureViewSpec("stats", "customer", new FeatureSourceSpec("events"), "event_time",
                [new FeatureSpec("spend", FeatureTypes.Double), new FeatureSpec("orders", FeatureTypes.Int64), new FeatureSpec("segment", FeatureTypes.String)], "30d")],
            [new FeatureServiceSpec("bench_v1", ["stats:*"])]));
        _service = sets.Catalog.Service("bench_v1");
        _offline = new OfflineStore(datasets, artifacts, _folder);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark]
    public Task<TrainingSetResult> FeatureStore() =>
        _offline.TrainingSetAsync(_service, _entities, "entities.parquet", Path.Combine(_folder, "train.parquet"));

    [Benchmark(Baseline = true)]
    public void PlainDuckDbAsof()
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            $"COPY (SELECT e.*, CASE WHEN f.event_time >= e.event_timestamp - INTERVAL 30 DAY THEN f.spend END AS spend, " +
            "CASE WHEN f.event_time >= e.event_timestamp - INTERVAL 30 DAY THEN f.orders END AS orders, " +
            "CASE WHEN f.event_time >= e.event_timestamp - INTERVAL 30 DAY THEN f.segment END AS segment " +
            $"FROM read_parquet('{_entities}') e ASOF LEFT JOIN read_parquet('{_features}') f " +
            $"ON e.customer_id = f.customer_id AND e.event_timestamp >= f.event_time) TO '{Path.Combine(_folder, "plain.parquet")}' (FORMAT parquet)";
        command.ExecuteNonQuery();
    }
}
