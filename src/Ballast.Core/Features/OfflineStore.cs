using System.Globalization;
using System.Text;
using Ballast.Datasets;
using Ballast.Storage;
using Ballast.Tracking;
using DuckDB.NET.Data;

namespace Ballast.Features;

/// <summary>What a training set came to: its rows, columns, and the dataset versions its views were read from.</summary>
public sealed record TrainingSetResult(string Service, long Rows, IReadOnlyList<string> Columns, IReadOnlyList<string> Sources)
{
    /// <summary>How each view was joined (<see cref="PointInTimeStrategy.Asof"/> or <see cref="PointInTimeStrategy.Range"/>), in the service's view order.</summary>
    internal IReadOnlyList<PointInTimeStrategy> Joins { get; init; } = [];
}

/// <summary>
/// The offline store: feature views read in DuckDB from their dataset versions and streams (the prediction log and
/// KPIs, through <see cref="Streams"/>). A training set joins each entity row
/// with, per view, the latest feature row of the same key whose event time is at or before the entity row's time
/// (never a later one, so no label leaks in from the future) and within the view's TTL (older values are null): by a
/// range join when the view has a TTL and few entity rows share a key, else by an ASOF join
/// (<see cref="PointInTimeStrategy"/>). Of feature rows with the same key and event time, the later one in the files wins. DuckDB keeps within
/// <see cref="MemoryLimitMegabytes"/> and spills to <see cref="ScratchFolder"/> when the join outgrows it.
/// </summary>
public sealed class OfflineStore(DatasetStore datasets, string? scratchFolder = null, FeatureStreams? streams = null,
    int memoryLimitMegabytes = OfflineStore.DefaultMemoryLimitMegabytes)
{
    public const string DefaultTimestampColumn = "event_timestamp";

    // 10 M feature rows × 1 M entity rows peak at ~380 MB of process memory with the range join and ~770 MB with the
    // ASOF join (bench/results/features.md); beyond the limit DuckDB spills instead of growing with the input.
    public const int DefaultMemoryLimitMegabytes = 1024;

    public string ScratchFolder { get; } = scratchFolder ?? Path.GetTempPath();

    /// <summary>The stream sources (null when this store reads dataset versions only).</summary>
    public FeatureStreams? Streams => streams;

    public int MemoryLimitMegabytes { get; } = memoryLimitMegabytes;

    /// <summary>How a training set matches each view's feature rows (tests pin one; otherwise chosen per view).</summary>
    internal PointInTimeStrategy Strategy { get; init; } = PointInTimeStrategy.Auto;

    /// <summary>
    /// Writes the point-in-time correct training set of <paramref name="service"/> for the entity rows in
    /// <paramref name="entitiesFile"/> (CSV, TSV or Parquet by <paramref name="entitiesName"/>'s extension; it has the
    /// entity's join key and <paramref name="timestampColumn"/>, and any other columns such as labels, which are kept)
    /// to the Parquet file <paramref name="outputFile"/>, in the entity rows' order.
    /// </summary>
    public async Task<TrainingSetResult> TrainingSetAsync(ResolvedService service, string entitiesFile, string entitiesName, string outputFile,
        string? timestampColumn = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        timestampColumn ??= DefaultTimestampColumn;
        if (DatasetProfiler.FormatOf(entitiesName) is null)
        {
            throw TrackingException.Invalid($"The entities file '{entitiesName}' is not CSV, TSV or Parquet (by its extension).");
        }

        using var connection = Open();
        DuckDbSql.Execute(connection, $"CREATE TEMP VIEW entities_raw AS SELECT * FROM {DatasetFileReader.Relation(entitiesFile, entitiesName)}");
        var columns = DuckDbSql.Columns(connection, "entities_raw");
        DuckDbSql.Execute(connection, $"CREATE OR REPLACE TEMP VIEW entities_raw AS SELECT * FROM {DatasetFileReader.NumberedRelation(connection, entitiesFile, entitiesName, "__erow")}");
        var problems = new List<string>();
        if (!columns.Contains(service.JoinKey))
        {
            problems.Add($"no column '{service.JoinKey}' (the join key of entity '{service.Entity.Name}')");
        }

        if (!columns.Contains(timestampColumn))
        {
            problems.Add($"no column '{timestampColumn}' (the time of each row; name another with timestamp_column)");
        }

        foreach (var name in service.Names.Where(columns.Contains))
        {
            problems.Add($"a column '{name}', which is a feature of service '{service.Name}' (rename or drop it)");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"The entities file has {string.Join("; ", problems)}; its columns are {string.Join(", ", columns)}.");
        }

        if (service.Entity.Type == FeatureTypes.Int64)
        {
            // The cast to BIGINT rounds 1.5 to 2: a key that is not a whole number is refused, as online lookups refuse it.
            var fractions = FeatureSource.FractionalKeys(connection, "entities_raw", service.JoinKey);
            if (fractions.Count > 0)
            {
                throw TrackingException.Invalid($"The entities file has '{service.JoinKey}' values that are not whole numbers ({string.Join(", ", fractions)}); entity '{service.Entity.Name}' has int64 keys.");
            }
        }

        DuckDbSql.Execute(connection,
            $"CREATE TEMP TABLE entities AS SELECT *, {FeatureSource.KeyValue(service.JoinKey, service.Entity)} AS __key, CAST({DuckDbSql.Identifier(timestampColumn)} AS TIMESTAMP) AS __ets FROM entities_raw");
        var nullTimes = Scalar(connection, "SELECT COUNT(*) FROM entities WHERE __ets IS NULL");
        if (nullTimes > 0)
        {
            throw TrackingException.Invalid($"The entities file has {nullTimes} row(s) without a '{timestampColumn}': every row needs the time its features are wanted at.");
        }

        var sources = new List<FeatureSource>();
        try
        {
            // Per view, a relation m<i> of (__erow, __v): each entity row with a feature row of its key at or before its
            // time and within the TTL, and that row's values. Entity rows without one are not in it (their values are null).
            var fit = new RangeJoinFit(connection);
            var matched = new List<string>();
            var selected = new List<string>();
            var joined = new List<PointInTimeStrategy>();
            for (var i = 0; i < service.ByView.Count; i++)
            {
                var (view, features) = service.ByView[i];
                var source = await FeatureSource.OpenAsync(connection, $"f{i}", view, features, datasets, streams, cancellationToken).ConfigureAwait(false);
                sources.Add(source);
                var values = $"{{{string.Join(", ", features.Select((feature, k) => $"'c{k}': f.{DuckDbSql.Identifier(feature.Name)}"))}}}";
                cancellationToken.ThrowIfCancellationRequested();
                if (TryRangeJoin(connection, i, view.Ttl, values, fit))
                {
                    joined.Add(PointInTimeStrategy.Range);
                }
                else
                {
                    AsofJoin(connection, i, view.Ttl, values, cancellationToken);
                    joined.Add(PointInTimeStrategy.Asof);
                }

                matched.Add($"m{i}");
                selected.AddRange(features.Select((feature, k) => $"m{i}.__v.c{k} AS {DuckDbSql.Identifier(feature.Name)}"));
            }

            var onDemand = string.Concat(service.OnDemand.Select(feature =>
                $", CAST({feature.Expression.Sql} AS {FeatureTypes.SqlType(feature.Type)}) AS {DuckDbSql.Identifier(feature.Name)}"));
            var joins = string.Concat(matched.Select(relation => $" LEFT JOIN {relation} ON e.__erow = {relation}.__erow"));
            var all = $"SELECT e.* EXCLUDE (__key, __ets){string.Concat(selected.Select(column => ", " + column))} FROM entities e{joins}";
            var query = $"SELECT * EXCLUDE (__erow){onDemand} FROM ({all}) ORDER BY __erow";
            cancellationToken.ThrowIfCancellationRequested();
            DuckDbSql.Execute(connection, $"COPY ({query}) TO {DuckDbSql.Literal(outputFile)} (FORMAT parquet)");
            var rows = Scalar(connection, $"SELECT COUNT(*) FROM read_parquet({DuckDbSql.Literal(outputFile)})");
            var output = new List<string>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbSql.Literal(outputFile)}))";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    output.Add(reader.GetString(0));
                }
            }

            return new TrainingSetResult(service.Name, rows, output, sources.Select(source => source.Reference).Distinct().ToList()) { Joins = joined };
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The latest row per entity key of a view with event time in (<paramref name="after"/>, <paramref name="until"/>]
    /// (Unix ms; no lower bound when null), as online rows, handed to <paramref name="consume"/> in batches. Returns what
    /// was read (the dataset version, or the stream) and how many rows there were.
    /// </summary>
    public async Task<(string Source, long Rows, long SkippedRows, string? Skipped)> LatestAsync(ResolvedView view, long? after, long until, int batchSize,
        Func<IReadOnlyList<OnlineRow>, Task> consume, IReadOnlyCollection<string>? keys = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(consume);
        using var connection = Open();
        await using var source = await FeatureSource.OpenAsync(connection, "f", view, view.Features, datasets, streams, cancellationToken, after, until).ConfigureAwait(false);
        var filter = new StringBuilder().Append(CultureInfo.InvariantCulture, $"epoch_ms(__ts) <= {until}");
        if (after is { } from)
        {
            filter.Append(CultureInfo.InvariantCulture, $" AND epoch_ms(__ts) > {from}");
        }

        if (keys is not null)
        {
            DuckDbSql.Execute(connection, "CREATE TEMP TABLE wanted (key VARCHAR)");
            using (var appender = connection.CreateAppender("wanted"))
            {
                foreach (var key in keys)
                {
                    appender.CreateRow().AppendValue(key).EndRow();
                }
            }

            filter.Append(" AND CAST(__key AS VARCHAR) IN (SELECT key FROM wanted)");
        }

        var values = string.Join(", ", view.Features.Select(feature => $"{DuckDbSql.Literal(feature.Name)}, {DuckDbSql.Identifier(feature.Name)}"));
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT CAST(__key AS VARCHAR) AS key, epoch_ms(__ts), CAST(json_object({values}) AS VARCHAR) FROM f WHERE {filter} " +
                              "QUALIFY row_number() OVER (PARTITION BY __key ORDER BY __ts DESC, __file DESC, __row DESC) = 1 ORDER BY key";
        using var reader = command.ExecuteReader();
        var batch = new List<OnlineRow>(batchSize);
        long rows = 0;
        while (reader.Read())
        {
            batch.Add(new OnlineRow(reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
            rows++;
            if (batch.Count == batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await consume(batch).ConfigureAwait(false);
                batch = new List<OnlineRow>(batchSize);
            }
        }

        if (batch.Count > 0)
        {
            await consume(batch).ConfigureAwait(false);
        }

        return (source.Reference, rows, source.SkippedRows, source.Skipped);
    }

    // A feature row's position in its view's files (2^40 rows a file), for ties on key and event time: the last wins.
    private const string FilePositions = "1099511627776";

    /// <summary>
    /// The range join (view <paramref name="i"/> into m&lt;i&gt;): a hash join of the entity rows with the feature rows of
    /// the same key in [time − TTL, time], the last in (event time, file position) kept per entity row. It reads the
    /// feature file once and sorts nothing, but its work grows with the entity rows per key and the feature rows within a
    /// TTL, so <see cref="RangeJoinFit"/> lets it run only when both are small, and it gives up (false, nothing kept) as
    /// soon as it has found more matches than <see cref="RangeJoinFit.MaxMatchesPerEntityRow"/> per entity row.
    /// </summary>
    private bool TryRangeJoin(DuckDBConnection connection, int i, TimeSpan? ttl, string values, RangeJoinFit fit)
    {
        var limit = Strategy switch
        {
            PointInTimeStrategy.Asof => (long?)null,
            PointInTimeStrategy.Range => long.MaxValue,
            _ => ttl is not null && fit.RowsPerKey <= RangeJoinFit.MaxEntityRowsPerKey ? fit.EntityRows * RangeJoinFit.MaxMatchesPerEntityRow + 1 : null,
        };
        if (limit is not { } cap)
        {
            return false;
        }

        var since = ttl is { } duration ? $" AND f.__ts >= e.__ets - INTERVAL '{(long)duration.TotalMilliseconds} milliseconds'" : "";
        var matches = $"SELECT e.__erow, f.__ts, f.__file * {FilePositions} + f.__row AS __pos, {values} AS __v " +
                      $"FROM entities e JOIN f{i} f ON e.__key = f.__key AND f.__ts <= e.__ets{since}{(cap == long.MaxValue ? "" : $" LIMIT {cap}")}";
        DuckDbSql.Execute(connection, $"CREATE TEMP TABLE m{i} AS SELECT __erow, arg_max(__v, {{'t': __ts, 'p': __pos}}) AS __v, COUNT(*) AS __n FROM ({matches}) GROUP BY __erow");
        if (cap != long.MaxValue && Scalar(connection, $"SELECT CAST(COALESCE(SUM(__n), 0) AS BIGINT) FROM m{i}") >= cap)
        {
            DuckDbSql.Execute(connection, $"DROP TABLE m{i}");
            return false;
        }

        return true;
    }

    /// <summary>
    /// The ASOF join (view <paramref name="i"/> into m&lt;i&gt;), in two steps. The ASOF join finds each entity row's
    /// match time: the latest event time of its key at or before the row's time; it moves keys and times only, not the
    /// features. Then the values are read for just the (key, match time) pairs within the TTL, the last row in the files
    /// winning a tie. Breaking ties inside the ASOF join instead (a 128-bit time-and-position order) made it ~1.5× as expensive.
    /// </summary>
    private static void AsofJoin(DuckDBConnection connection, int i, TimeSpan? ttl, string values, CancellationToken cancellationToken)
    {
        var fresh = ttl is { } duration
            ? $"a.__m >= a.__ets - INTERVAL '{(long)duration.TotalMilliseconds} milliseconds'"
            : "a.__m IS NOT NULL";
        DuckDbSql.Execute(connection,
            $"CREATE TEMP TABLE a{i} AS SELECT j.__erow, j.__key, j.__ets, f.__ts AS __m FROM entities j ASOF LEFT JOIN (SELECT __key, __ts FROM f{i}) f ON j.__key = f.__key AND j.__ets >= f.__ts");
        cancellationToken.ThrowIfCancellationRequested();
        DuckDbSql.Execute(connection,
            $"CREATE TEMP TABLE v{i} AS SELECT f.__key, f.__ts, arg_max({values}, f.__file * {FilePositions} + f.__row) AS __v FROM f{i} f " +
            $"SEMI JOIN (SELECT a.__key, a.__m FROM a{i} a WHERE {fresh}) m ON f.__key = m.__key AND f.__ts = m.__m GROUP BY f.__key, f.__ts");
        DuckDbSql.Execute(connection,
            $"CREATE TEMP VIEW m{i} AS SELECT a.__erow, v.__v FROM a{i} a JOIN v{i} v ON a.__key = v.__key AND a.__m = v.__ts WHERE {fresh}");
    }

    /// <summary>
    /// What decides whether a view's range join may run: the entity rows, and the most of them with one key (each
    /// counted once, when first asked, and only if a view has a TTL).
    /// </summary>
    private sealed class RangeJoinFit(DuckDBConnection connection)
    {
        // The hash join compares each feature row with every entity row of its key, so this bounds its work at this
        // many comparisons per feature row (it cannot see how the feature rows spread over the keys without reading
        // them). 10 M feature rows × 1 M entity rows (bench/results/features.md): about 1 entity row a key (at most 8),
        // 0.8 matches per row: 1.9 s of CPU against the ASOF join's 2.9 s. The worst case allowed, every key with 16
        // entity rows and all feature rows on those keys (a 1-day TTL, 0.4 matches per row): 4.0–4.6 s against
        // 3.1–3.2 s; with 8 a key, 2.6 s against 2.8 s. 16 keeps the range join for entity files like the benchmark's
        // (keys drawn at random, ~1 row each) at any size.
        public const int MaxEntityRowsPerKey = 16;

        // Matches older than an entity row's latest are aggregated away, and on 1 M entity rows 8 per row cost as much
        // as the ASOF join. Past this many the range join gives up and the ASOF join runs; what was spent is at most
        // one read of the feature rows and this many matches kept.
        public const int MaxMatchesPerEntityRow = 2;

        private long? _entityRows;
        private long? _rowsPerKey;

        public long EntityRows => _entityRows ??= Scalar(connection, "SELECT COUNT(*) FROM entities");

        public long RowsPerKey => _rowsPerKey ??= Scalar(connection,
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM entities WHERE __key IS NOT NULL GROUP BY __key)");
    }

    private DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, $"SET temp_directory = {DuckDbSql.Literal(Path.Combine(ScratchFolder, "ballast-duckdb-" + Environment.ProcessId))}; SET memory_limit = '{MemoryLimitMegabytes}MB'");
        try
        {
            // Text timestamps with an offset are instants; read them in UTC, not the host's zone.
            DuckDbSql.Execute(connection, "SET TimeZone = 'UTC'");
        }
        catch (DuckDBException)
        {
            // Without the ICU extension there are no zones to convert between: nothing to set.
        }

        return connection;
    }

    private static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
