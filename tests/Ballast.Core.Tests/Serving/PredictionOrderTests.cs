using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using DuckDB.NET.Data;

namespace Ballast.Tests.Serving;

/// <summary>
/// The order of the prediction log's records as its readers see it (export, monitors' windows), on SQLite and
/// PostgreSQL (the export joins feedback): records of one millisecond in write order, and segments written before
/// records had an instance and a sequence still read, first among their millisecond.
/// </summary>
public abstract class PredictionOrderTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-prediction-order-")
{
    private static readonly DateTimeOffset Stamp = new(2026, 11, 25, 7, 30, 0, 123, TimeSpan.Zero);

    private string ArtifactsFolder => PathIn("artifacts");

    /// <summary>
    /// A segment as the log wrote them before records had an instance and a sequence (and before the expectations
    /// column), at <paramref name="hour"/>, holding one record per id, all stamped <see cref="Stamp"/>.
    /// </summary>
    private void OldSegment(string hour, params string[] ids)
    {
        var path = Path.Combine(ArtifactsFolder, "predictions", "iris", hour, "0123456789ab-wal-0000000001.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var rows = string.Join(" UNION ALL ", ids.Select(id =>
            $"SELECT '{id}' AS prediction_id, 'iris' AS endpoint, 'a' AS variant, 'iris/1' AS model, {Stamp.ToUnixTimeMilliseconds()}::BIGINT AS timestamp, " +
            "-1.0::DOUBLE AS latency_ms, NULL::VARCHAR AS routing_key, 'primary' AS kind, '[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]' AS inputs, '[]' AS outputs"));
        command.CommandText = $"COPY ({rows}) TO '{path}' (FORMAT parquet)";
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Records_of_one_millisecond_are_exported_and_windowed_in_write_order_after_those_of_old_segments()
    {
        // The clock is frozen: every record is stamped in one millisecond. Ids sort against the write order, so an order
        // by id (what readers did before) would reverse them.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Stamp);
        var artifacts = ArtifactStoreFactory.Create(ArtifactsFolder, null, null);
        OldSegment("2026-11-25-07", "old-b", "old-a");
        var log = await OpenLogAsync(artifacts, time: time);
        var written = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var id = $"n{999 - i:D3}";
            (await log.AppendAsync(new PredictionRecord(id, "iris", "a", "iris/1", time.GetUtcNow().ToUnixTimeMilliseconds(), i, null,
                [new Tensor("x", TensorDatatypes.Fp32, [1], new float[] { i })], []), Cancel)).ShouldBeTrue();
            written.Add(id);
        }

        var export = new PredictionExport(log, artifacts, new FeedbackStore(Database, Time));
        var csv = PathIn("export.csv");
        await export.ExportAsync("iris", null, null, "csv", csv, Cancel);

        var lines = (await File.ReadAllLinesAsync(csv, Cancel)).ToList();
        var header = lines[0].Split(',').ToList();
        header.ShouldBe(["prediction_id", "endpoint", "variant", "model", "timestamp", "latency_ms", "routing_key", "kind", "inputs", "outputs", "expectations",
            "instance", "sequence", "outcome", "reward", "feedback_at"]);
        lines.Skip(1).Select(line => line.Split(',')[0]).ShouldBe(["old-a", "old-b", .. written], "old records (no sequence) first, by id; then in write order");
        var parquet = PathIn("export.parquet");
        await export.ExportAsync("iris", null, null, "parquet", parquet, Cancel);
        Column(parquet, "SELECT count(*) FILTER (WHERE sequence IS NULL AND instance IS NULL), count(DISTINCT sequence), min(instance) FROM read_parquet('{0}')")
            .ShouldBe(["2", "300", log.Instance]);

        // A monitor's row window takes the first N in the same order.
        var window = await export.QueryAsync("iris", null, null, connection => WindowTable.Read(connection, null, limit: 52), Cancel);
        window.Latencies.ShouldBe([-1.0, -1.0, .. Enumerable.Range(0, 50).Select(i => (double)i)]);
        await log.DisposeAsync();
    }

    [Fact]
    public async Task Segments_that_all_predate_the_sequence_are_still_read()
    {
        // No segment of the range has the instance, sequence or expectations column: readers that order by them still work.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Stamp.AddHours(5));
        var artifacts = ArtifactStoreFactory.Create(ArtifactsFolder, null, null);
        OldSegment("2026-11-25-07", "old-c", "old-a", "old-b");
        var log = await OpenLogAsync(artifacts, time: time);
        var export = new PredictionExport(log, artifacts, new FeedbackStore(Database, Time));

        var window = await export.QueryAsync("iris", null, null, connection => WindowTable.Read(connection, null), Cancel);
        var ids = await export.QueryAsync("iris", null, null, connection =>
            DuckDbColumn(connection, $"SELECT prediction_id || ':' || coalesce(sequence::VARCHAR, 'null') || ':' || coalesce(instance, 'null') FROM predictions ORDER BY {PredictionSegments.Order}"), Cancel);

        window.Rows.ShouldBe(3);
        window.Flagged.ShouldAllBe(flagged => flagged == null);
        ids.ShouldBe(["old-a:null:null", "old-b:null:null", "old-c:null:null"]);
        var monitors = new MonitorEvaluator(export, new Ballast.Datasets.DatasetStore(Database, artifacts, Time, new Ballast.Datasets.DatasetProfiler()),
            new Ballast.Experiments.KpiStore(Database, Time), new TrafficStats(Database, Time));
        (await monitors.CountAfterAsync("iris", 1, null, 2, cancellationToken: Cancel)).ShouldBe((3L, new LogPosition(Stamp.ToUnixTimeMilliseconds(), null, null, "old-b")),
            "the second in the log's order: old records have no instance or sequence");
        await log.DisposeAsync();
    }

    [Fact]
    public async Task Monitors_read_the_answers_callers_got_forced_ones_too_but_not_shadow_copies()
    {
        // A forced variant's answer is no unit of an experiment, but it is what its caller got: a monitor's window and
        // its row count read it as they read a primary answer; a shadow's copy reached nobody.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Stamp);
        var artifacts = ArtifactStoreFactory.Create(ArtifactsFolder, null, null);
        var log = await OpenLogAsync(artifacts, time: time);
        string[] kinds = [PredictionRecord.Primary, PredictionRecord.Forced, PredictionRecord.Shadow, PredictionRecord.Primary, PredictionRecord.Forced, PredictionRecord.Shadow];
        for (var i = 0; i < kinds.Length; i++)
        {
            (await log.AppendAsync(new PredictionRecord($"p{i}", "iris", "a", "iris/1", time.GetUtcNow().ToUnixTimeMilliseconds(), i, null,
                [new Tensor("x", TensorDatatypes.Fp32, [1], new float[] { i })], [], kinds[i]), Cancel)).ShouldBeTrue();
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var export = new PredictionExport(log, artifacts, new FeedbackStore(Database, Time));
        var window = await export.QueryAsync("iris", null, null, connection => WindowTable.Read(connection, null), Cancel);
        window.Latencies.ShouldBe([0.0, 1.0, 3.0, 4.0]);
        var monitors = new MonitorEvaluator(export, new Ballast.Datasets.DatasetStore(Database, artifacts, Time, new Ballast.Datasets.DatasetProfiler()),
            new Ballast.Experiments.KpiStore(Database, Time), new TrafficStats(Database, Time));
        var (count, fourth) = await monitors.CountAfterAsync("iris", 1, null, 4, cancellationToken: Cancel);
        (count, fourth!.Timestamp, fourth.Instance, fourth.PredictionId).ShouldBe((4L, Stamp.ToUnixTimeMilliseconds() + 4, log.Instance, "p4"));
        await log.DisposeAsync();
    }

    private static List<string> Column(string file, string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return DuckDbColumn(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, file));
    }

    private static List<string> DuckDbColumn(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values.Add(Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!);
            }
        }

        return values;
    }
}

public sealed class SqlitePredictionOrderTests() : PredictionOrderTests(DatabaseEngine.Sqlite);

public sealed class PostgresPredictionOrderTests() : PredictionOrderTests(DatabaseEngine.Postgres);
