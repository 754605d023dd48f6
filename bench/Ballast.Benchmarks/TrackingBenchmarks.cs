using BenchmarkDotNet.Attributes;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Benchmarks;

/// <summary>
/// The two MLflow complaints issue 4 names, on SQLite: log_batch of 1000 metrics (MLflow: ~9 s) and searching
/// 100,000 runs by metric and param. Baselines in the same run: inserting the same 1000 rows one statement each in
/// one transaction (the straightforward way), and the cheapest possible page query (runs by start time).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TrackingBenchmarks
{
    private const int SearchRuns = 100_000;

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

        // 100,000 runs written straight into the tables in one transaction: the fixture, not what is measured.
        var experiment = await experiments.CreateAsync("search");
        var random = new Random(7);
        await using (var connection = await _database.OpenAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var runs = Enumerable.Range(0, SearchRuns).Select(i => new { Id = i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), Experiment = long.Parse(experiment, System.Globalization.CultureInfo.InvariantCulture), Start = (long)i }).ToList();
            await connection.ExecuteAsync(
                "INSERT INTO runs (run_uuid, experiment_id, run_name, status, start_time, artifact_uri, lifecycle_stage) VALUES (@Id, @Experiment, @Id, 'FINISHED', @Start, '', 'active')", runs, transaction);
            await connection.ExecuteAsync(
                "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (@Id, @Key, @Value, 0, 0, 0)",
                runs.SelectMany(run => new[] { new { run.Id, Key = "acc", Value = random.NextDouble() }, new { run.Id, Key = "loss", Value = random.NextDouble() } }), transaction);
            await connection.ExecuteAsync(
                "INSERT INTO run_params (run_uuid, key, value) VALUES (@Id, @Key, @Value)",
                runs.SelectMany((run, i) => new[] { new { run.Id, Key = "model", Value = i % 3 == 0 ? "lgbm" : "xgb" }, new { run.Id, Key = "depth", Value = (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture) } }), transaction);
            await connection.ExecuteAsync(
                "INSERT INTO run_tags (run_uuid, key, value) VALUES (@Id, 'team', @Team)", runs.Select((run, i) => new { run.Id, Team = i % 2 == 0 ? "a" : "b" }), transaction);
            await transaction.CommitAsync();
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

    [Benchmark(Baseline = true, Description = "100k runs: newest 100 (floor)")]
    [BenchmarkCategory("search")]
    public async Task<int> SearchFloor()
    {
        await using var connection = await _database.OpenAsync();
        return (await connection.QueryAsync<string>("SELECT run_uuid FROM runs ORDER BY start_time DESC LIMIT 100")).Count();
    }

    [Benchmark(Description = "100k runs: metrics.acc > 0.5 and params.model = 'lgbm', by acc DESC, 100 with data")]
    [BenchmarkCategory("search")]
    public async Task<int> Search() =>
        (await _runs.SearchAsync(new RunSearch([SearchExperiment], "metrics.acc > 0.5 and params.model = 'lgbm'", ["metrics.acc DESC"], 100))).Runs.Count;
}
