using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Ballast.Datasets;
using Ballast.Features;
using Ballast.Metadata;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.FeatureBench;

/// <summary>
/// The point-in-time join: Ballast's training-set builder against the plain DuckDB ASOF join of the same Parquet files.
/// The feature rows are in event-time order (as an event log is) with distinct event times, so both joins have one
/// right answer per entity row and <see cref="Compare"/> can check them against each other.
/// </summary>
internal static class JoinBench
{
    private const string Ttl = "30d";

    public static int Generate(string folder, long featureRows, long entities, long entityRows)
    {
        Directory.CreateDirectory(folder);
        using var connection = Open();
        // A year of events, evenly spaced in microseconds (distinct, in file order); keys and values from DuckDB's
        // hash of the row number, so the files are the same on every run.
        var spacing = 31_536_000_000_000L / featureRows;
        Execute(connection,
            "COPY (SELECT CAST(hash(i, 1) % " + entities + " AS BIGINT) AS customer_id, " +
            "TIMESTAMP '2026-01-01' + to_microseconds(i * " + spacing + ") AS event_time, " +
            "CAST(hash(i, 2) % 1000000 AS DOUBLE) / 100 AS spend, CAST(hash(i, 3) % 50 AS BIGINT) AS orders, " +
            "CAST(CAST(hash(i, 4) % 1000 AS DOUBLE) / 1000 AS FLOAT) AS score, 'segment-' || (hash(i, 5) % 7) AS segment " +
            $"FROM range({featureRows}) t(i)) TO {Literal(Path.Combine(folder, "features.parquet"))} (FORMAT parquet)");
        Execute(connection,
            "COPY (SELECT i AS request_id, CAST(hash(i, 11) % " + entities + " AS BIGINT) AS customer_id, " +
            "TIMESTAMP '2026-01-01' + to_microseconds(CAST(hash(i, 12) % 31536000000000 AS BIGINT)) AS event_timestamp, " +
            "CAST(hash(i, 13) % 2 AS BIGINT) AS label " +
            $"FROM range({entityRows}) t(i)) TO {Literal(Path.Combine(folder, "entities.parquet"))} (FORMAT parquet)");
        Console.WriteLine($"generated {featureRows:N0} feature rows over {entities:N0} entities and {entityRows:N0} entity rows in {folder}");
        return 0;
    }

    /// <summary>What `ballast data add` and `ballast apply -f` do before a training set: a dataset version and a feature set.</summary>
    public static async Task<int> PrepareAsync(string folder)
    {
        var data = Path.Combine(folder, "ballast");
        Directory.CreateDirectory(data);
        await using var database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(data, "ballast.db")));
        var artifacts = ArtifactStoreFactory.Create(Path.Combine(data, "artifacts"), null, null);
        var datasets = new DatasetStore(database, artifacts, TimeProvider.System, new DatasetProfiler());
        var features = Path.Combine(folder, "features.parquet");
        string sha;
        await using (var file = File.OpenRead(features))
        {
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
        }

        await using (var file = File.OpenRead(features))
        {
            await datasets.PutBlobAsync(sha, file);
        }

        var added = await datasets.AddVersionAsync("events", [new DatasetFile("features.parquet", new FileInfo(features).Length, sha)]);
        var sets = new FeatureStore(database, TimeProvider.System);
        await sets.PutAsync(new FeatureSetSpec("bench", [new EntitySpec("customer", "customer_id", FeatureTypes.Int64)],
            [
                new FeatureViewSpec("customer_stats", "customer", new FeatureSourceSpec("events"), "event_time",
                [
                    new FeatureSpec("spend", FeatureTypes.Double), new FeatureSpec("orders", FeatureTypes.Int64),
                    new FeatureSpec("score", FeatureTypes.Float), new FeatureSpec("segment", FeatureTypes.String),
                ], Ttl),
            ],
            [new FeatureServiceSpec("bench_v1", ["customer_stats:*"])]));
        Console.WriteLine($"dataset {added.Version.Reference} ({added.Version.RowCount:N0} rows), feature service bench_v1 in {data}");
        return 0;
    }

    public static async Task<int> TrainingSetAsync(string folder)
    {
        var data = Path.Combine(folder, "ballast");
        await using var database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(data, "ballast.db")));
        var artifacts = ArtifactStoreFactory.Create(Path.Combine(data, "artifacts"), null, null);
        var datasets = new DatasetStore(database, artifacts, TimeProvider.System, new DatasetProfiler());
        var sets = new FeatureStore(database, TimeProvider.System);
        await sets.RefreshAsync();
        // As the server builds it (BallastServer): DuckDB spills to the data folder's scratch.
        var offline = new OfflineStore(datasets, Path.Combine(data, "scratch"));
        var output = Path.Combine(folder, "ballast.parquet");
        File.Delete(output);
        var (watch, cpu) = (Stopwatch.StartNew(), Process.GetCurrentProcess().TotalProcessorTime);
        var result = await offline.TrainingSetAsync(sets.Catalog.Service("bench_v1"), Path.Combine(folder, "entities.parquet"), "entities.parquet", output);
        Report(watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, $"{result.Rows} rows; columns {string.Join(", ", result.Columns)}; from {string.Join(", ", result.Sources)}");
        return 0;
    }

    /// <summary>
    /// What one would write by hand in DuckDB: the entity rows ASOF LEFT JOINed with the feature rows on the key and
    /// time, values older than the TTL nulled. It does not break ties between feature rows of the same key and time,
    /// nor keep the entity rows' order, nor check its inputs; Ballast's join does all three.
    /// </summary>
    public static int PlainAsof(string folder)
    {
        var output = Path.Combine(folder, "plain.parquet");
        File.Delete(output);
        using var connection = Open();
        var (watch, cpu) = (Stopwatch.StartNew(), Process.GetCurrentProcess().TotalProcessorTime);
        const string fresh = "f.event_time >= e.event_timestamp - INTERVAL 30 DAY";
        Execute(connection,
            $"COPY (SELECT e.*, CASE WHEN {fresh} THEN f.spend END AS spend, CASE WHEN {fresh} THEN f.orders END AS orders, " +
            $"CASE WHEN {fresh} THEN f.score END AS score, CASE WHEN {fresh} THEN f.segment END AS segment " +
            $"FROM read_parquet({Literal(Path.Combine(folder, "entities.parquet"))}) e ASOF LEFT JOIN read_parquet({Literal(Path.Combine(folder, "features.parquet"))}) f " +
            $"ON e.customer_id = f.customer_id AND e.event_timestamp >= f.event_time) TO {Literal(output)} (FORMAT parquet)");
        var (wall, used) = (watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
        Report(wall, used, $"{Scalar(connection, $"SELECT COUNT(*) FROM read_parquet({Literal(output)})")} rows");
        return 0;
    }

    /// <summary>Both outputs have every entity row once with the same values; Ballast's is in the entity rows' order.</summary>
    public static int Compare(string folder)
    {
        using var connection = Open();
        var ballast = $"read_parquet({Literal(Path.Combine(folder, "ballast.parquet"))})";
        var plain = $"read_parquet({Literal(Path.Combine(folder, "plain.parquet"))})";
        var entities = Scalar(connection, $"SELECT COUNT(*) FROM read_parquet({Literal(Path.Combine(folder, "entities.parquet"))})");
        var differing = Scalar(connection,
            $"SELECT COUNT(*) FROM {ballast} b FULL OUTER JOIN {plain} p ON b.request_id = p.request_id WHERE b.request_id IS NULL OR p.request_id IS NULL " +
            "OR b.customer_id IS DISTINCT FROM p.customer_id OR b.event_timestamp IS DISTINCT FROM p.event_timestamp OR b.label IS DISTINCT FROM p.label " +
            "OR b.spend IS DISTINCT FROM p.spend OR b.orders IS DISTINCT FROM p.orders OR b.score IS DISTINCT FROM p.score OR b.segment IS DISTINCT FROM p.segment");
        var rows = Scalar(connection, $"SELECT COUNT(*) FROM {ballast}");
        var filled = Scalar(connection, $"SELECT COUNT(*) FROM {ballast} WHERE spend IS NOT NULL");
        Execute(connection, "SET threads = 1");
        var outOfOrder = Scalar(connection, $"SELECT COUNT(*) FROM (SELECT request_id - lag(request_id) OVER () AS step FROM {ballast}) WHERE step <> 1");
        Console.WriteLine($"compare: {entities:N0} entity rows, {rows:N0} in Ballast's output, {filled:N0} with features within the TTL, " +
                          $"{differing:N0} rows differ from the plain join, {outOfOrder:N0} out of the entity rows' order");
        return differing == 0 && outOfOrder == 0 && rows == entities ? 0 : 1;
    }

    /// <summary>The join's own wall and CPU time (process start, metadata and catalog excluded), for run.sh to parse.</summary>
    private static void Report(TimeSpan wall, TimeSpan cpu, string what) =>
        Console.WriteLine($"join_seconds={wall.TotalSeconds:F3} join_cpu_seconds={cpu.TotalSeconds:F3} {what}");

    private static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return connection;
    }

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
