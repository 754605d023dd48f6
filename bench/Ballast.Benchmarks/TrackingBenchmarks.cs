using BenchmarkDotNet.Attributes;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Benchmarks;

/// <summary>
/// The two MLflow complaints issue 4 names, on SQLite: log_batch of 1000 metrics (MLflow: ~9 s) and searching
/// many runs by metric and param. Baselines in the same run: inserting the same 1000 rows one statement each in
/// one transaction (the straightforward way), and the cheapest possible page query (runs by start time).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TrackingBenchmarks
{
    private const int SearchRuns = 10_000;

    private string _folder = "";
    private MetadataDatabase _database = null!;
    private RunStore _runs = null!;
    private string _runId = "";
    private List<Metric> _batch = [];
    private int _round;

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ballast-bench-").FullName;
        _database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(_folder, "ballast.db")));
        var experiments = new ExperimentStore(_database, TimeProvider.System);
        _runs = new RunStore(_database, experiments, TimeProvider.System);
        _runId = (await _runs.CreateAsync("0")).Info.RunId;

        var experiment = await experiments.CreateAsync("search");
        var random = new Random(7);
        for (var i = 0; i < SearchRuns; i++)
        {
            var run = await _runs.CreateAsync(experiment, startTime: i);
            await _runs.LogBatchAsync(run.Info.RunId,
                [new Metric("acc", random.NextDouble(), i, 0), new Metric("loss", random.NextDouble(), i, 0)],
                [new Param("model", i % 3 == 0 ? "lgbm" : "xgb"), new Param("depth", (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture))],
                [new TrackingTag("team", i % 2 == 0 ? "a" : "b")]);
        }

        SearchExperiment = experiment;
    }

    public string SearchExperiment { get; private set; } = "";

    [IterationSetup(Targets = [nameof(LogBatchNaive), nameof(LogBatch)])]
    public void NextBatch()
    {
        // Fresh timestamps each iteration, so every row is new (as a training loop's would be).
        _round++;
        _batch = Enumerable.Range(0, 1000).Select(i => new Metric($"m{i % 10}", i * 0.001, (_round * 1000L) + i, (_round * 1000L) + i)).ToList();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "1000 metrics, one INSERT each, one transaction")]
    [BenchmarkCategory("log_batch")]
    public async Task LogBatchNaive()
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (@RunId, @Key, @Value, @Timestamp, @Step, 0)",
            _batch.Select(metric => new { RunId = _runId, metric.Key, metric.Value, metric.Timestamp, metric.Step }), transaction);
        await transaction.CommitAsync();
    }

    [Benchmark(Description = "RunStore.LogBatchAsync (1000 metrics, validated, latest kept)")]
    [BenchmarkCategory("log_batch")]
    public Task LogBatch() => _runs.LogBatchAsync(_runId, _batch, [], []);

    [Benchmark(Baseline = true, Description = "10k runs: newest 100 (floor)")]
    [BenchmarkCategory("search")]
    public async Task<int> SearchFloor()
    {
        await using var connection = await _database.OpenAsync();
        return (await connection.QueryAsync<string>("SELECT run_uuid FROM runs ORDER BY start_time DESC LIMIT 100")).Count();
    }

    [Benchmark(Description = "10k runs: metrics.acc > 0.5 and params.model = 'lgbm', by acc DESC, 100 with data")]
    [BenchmarkCategory("search")]
    public async Task<int> Search() =>
        (await _runs.SearchAsync(new RunSearch([SearchExperiment], "metrics.acc > 0.5 and params.model = 'lgbm'", ["metrics.acc DESC"], 100))).Runs.Count;
}
