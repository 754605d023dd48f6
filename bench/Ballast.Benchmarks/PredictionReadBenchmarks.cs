using BenchmarkDotNet.Attributes;
using Ballast.Serving;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Benchmarks;

/// <summary>
/// Reading a day of the prediction log as an export or a training set over it does (list the day's segments, then one
/// DuckDB query over every row), from the segments as the log writes them (one per minute: 1,440 files of 100 records)
/// and from the same records after compaction (<see cref="PredictionCompaction"/>: one file per hour).
/// </summary>
[MemoryDiagnoser]
public class PredictionReadBenchmarks
{
    private const int RowsPerSegment = 100;
    private static readonly DateTimeOffset Day = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

    private string _root = "";
    private IArtifactStore _segmentStore = null!;
    private IArtifactStore _compactedStore = null!;
    private PredictionLog _segments = null!;
    private PredictionLog _compacted = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _root = Directory.CreateTempSubdirectory("ballast-bench-reads-").FullName;
        _segmentStore = ArtifactStoreFactory.Create(Path.Combine(_root, "segments"), null, null);
        WriteMinuteSegments(Path.Combine(_root, "segments", PredictionLog.SegmentFolder, "iris"));
        CopyFolder(Path.Combine(_root, "segments"), Path.Combine(_root, "compacted"));
        _compactedStore = ArtifactStoreFactory.Create(Path.Combine(_root, "compacted"), null, null);
        var later = new FixedTime(Day.AddDays(1).AddHours(1));
        var result = await new PredictionCompaction(_compactedStore, later).CompactAsync();
        if (result.HoursCompacted != 24 || result.Rows != 24 * 60 * RowsPerSegment)
        {
            throw new InvalidOperationException($"compaction did {result}");
        }

        _segments = await PredictionLog.OpenAsync(new PredictionLogOptions(Path.Combine(_root, "wal-segments")), _segmentStore, later);
        _compacted = await PredictionLog.OpenAsync(new PredictionLogOptions(Path.Combine(_root, "wal-compacted")), _compactedStore, later);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _segments.DisposeAsync();
        await _compacted.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "a day as written: 1,440 segments")]
    public Task<long> ReadSegments() => ReadDayAsync(_segments, _segmentStore);

    [Benchmark(Description = "a day compacted: 24 files")]
    public Task<long> ReadCompacted() => ReadDayAsync(_compacted, _compactedStore);

    private static async Task<long> ReadDayAsync(PredictionLog log, IArtifactStore store)
    {
        var files = new List<string>();
        foreach (var segment in await log.SegmentsAsync("iris", Day.ToUnixTimeMilliseconds(), Day.AddDays(1).ToUnixTimeMilliseconds() - 1))
        {
            files.Add(await store.LocalFileAsync(segment, "unused: a local store reads its own files"));
        }

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), count(DISTINCT variant), sum(length(inputs)) FROM {PredictionSegments.Relation(files)}";
        using var reader = command.ExecuteReader();
        reader.Read();
        var rows = reader.GetInt64(0);
        return rows == 24 * 60 * RowsPerSegment ? rows : throw new InvalidOperationException($"read {rows} rows");
    }

    /// <summary>1,440 segments of <see cref="RowsPerSegment"/> iris records each, named and placed as the log names them.</summary>
    private void WriteMinuteSegments(string endpointFolder)
    {
        var staging = Path.Combine(_root, "staging");
        using (var connection = new DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                $$"""
                COPY (
                  SELECT 'p' || i AS prediction_id, 'iris' AS endpoint, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS variant, 'iris/1' AS model,
                         {{Day.ToUnixTimeMilliseconds()}} + (i // {{RowsPerSegment}}) * 60000 + i % {{RowsPerSegment}} AS timestamp, 0.4 AS latency_ms,
                         NULL::VARCHAR AS routing_key, 'primary' AS kind,
                         '[{"name":"input","datatype":"FP32","shape":[1,4],"data":[' || (i % 7) || '.1,3.5,1.4,0.2]}]' AS inputs,
                         '[{"name":"label","datatype":"INT64","shape":[1],"data":[0]},{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[0.97,0.02,0.01]}]' AS outputs,
                         NULL::VARCHAR AS expectations, 'bench0000001' AS instance, i::BIGINT AS sequence, i // {{RowsPerSegment}} AS minute
                  FROM range({{24 * 60 * RowsPerSegment}}) t(i)
                ) TO '{{staging}}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (minute))
                """;
            command.ExecuteNonQuery();
        }

        for (var minute = 0; minute < 24 * 60; minute++)
        {
            var hour = Path.Combine(endpointFolder, Day.AddMinutes(minute).ToString("yyyy-MM-dd-HH", System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(hour);
            var file = Directory.EnumerateFiles(Path.Combine(staging, $"minute={minute}"), "*.parquet").Single();
            File.Move(file, Path.Combine(hour, $"bench0000001-wal-{minute + 1:D10}.parquet"));
        }

        Directory.Delete(staging, recursive: true);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
