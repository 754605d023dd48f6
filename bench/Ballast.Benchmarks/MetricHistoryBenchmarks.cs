using BenchmarkDotNet.Attributes;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Benchmarks;

/// <summary>
/// Reading a metric history of 1,000,000 points for one key on SQLite, as <c>metrics/get-history</c> without
/// <c>max_results</c> does: streamed from the database cursor (<see cref="RunStore.StreamMetricHistoryAsync"/>) against
/// the baseline of reading the same rows into one list with Dapper's buffered query, as a straightforward implementation would.
/// The memory columns tell the difference: the stream only ever holds one row (gen-0 garbage), the list promotes
/// every point to gen 2.
/// </summary>
[MemoryDiagnoser]
public class MetricHistoryBenchmarks
{
    private const int Points = 1_000_000;

    private string _folder = "";
    private MetadataDatabase _database = null!;
    private RunStore _runs = null!;
    private string _runId = "";

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ballast-bench-history-").FullName;
        _database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(_folder, "ballast.db")));
        _runs = new RunStore(_database, new ExperimentStore(_database, TimeProvider.System), TimeProvider.System);
        _runId = (await _runs.CreateAsync("0")).Info.RunId;

        // The fixture goes straight into the table in one transaction: not what is measured.
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (@RunId, 'loss', @Value, @Step, @Step, 0)",
            Enumerable.Range(0, Points).Select(i => new { RunId = _runId, Value = 1.0 / (i + 1), Step = (long)i }), transaction);
        await transaction.CommitAsync();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "1M points read into one list (Dapper, buffered)")]
    public async Task<int> Buffered()
    {
        await using var connection = await _database.OpenAsync();
        var all = (await connection.QueryAsync<(double Value, long Timestamp, long Step)>(
            "SELECT value, timestamp, step FROM metrics WHERE run_uuid = @runId AND key = 'loss' ORDER BY step, timestamp, value", new { runId = _runId })).AsList();
        return all.Count;
    }

    [Benchmark(Description = "1M points streamed from the cursor (StreamMetricHistoryAsync)")]
    public async Task<double> Streamed()
    {
        var sum = 0.0;
        await foreach (var metric in _runs.StreamMetricHistoryAsync(_runId, "loss"))
        {
            sum += metric.Value;
        }

        return sum;
    }
}
