using System.Globalization;
using System.Text;
using Ballast.Datasets;
using Ballast.Storage;
using Ballast.Tracking;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Features;

/// <summary>
/// A view's source opened in DuckDB: the tabular files of its dataset version (in place for a local artifact store,
/// temporary copies for S3) as one relation with the join key (<c>__key</c>: BIGINT for an <c>int64</c> entity, text
/// otherwise), the event time (<c>__ts</c>),
/// the features cast to their types, and each row's position (<c>__file</c>, <c>__row</c>) so that of two rows with
/// the same key and event time the later one in the files wins. Dispose deletes the copies.
/// </summary>
internal sealed class FeatureSource : IAsyncDisposable
{
    private readonly List<string> _copies = [];

    private FeatureSource(string reference) => Reference = reference;

    /// <summary>What was read: the dataset version (<c>name@3</c>) or the stream (<c>endpoint:churn</c>, <c>kpi:revenue</c>).</summary>
    public string Reference { get; }

    /// <summary>
    /// Opens a view's source as <paramref name="relation"/>. A stream is read with event times in
    /// (<paramref name="after"/>, <paramref name="until"/>] only (a dataset is read whole; callers filter).
    /// </summary>
    public static async Task<FeatureSource> OpenAsync(DuckDBConnection connection, string relation, ResolvedView view, IReadOnlyList<FeatureSpec> features,
        DatasetStore datasets, FeatureStreams? streams, CancellationToken cancellationToken, long? after = null, long? until = null)
    {
        if (view.Spec.Source!.IsStream)
        {
            return await OpenStreamAsync(connection, relation, view, features, streams, after, until, cancellationToken).ConfigureAwait(false);
        }

        var version = await datasets.GetVersionAsync(DatasetReference.Parse(view.Spec.Source!.Dataset!), cancellationToken).ConfigureAwait(false);
        var source = new FeatureSource(version.Reference);
        try
        {
            var tables = (version.Files ?? []).Where(file => DatasetProfiler.FormatOf(file.Path) is not null).ToList();
            if (tables.Count == 0)
            {
                throw TrackingException.Invalid($"Feature view '{view.Name}': dataset {version.Reference} has no CSV, TSV or Parquet file.");
            }

            var parts = new List<string>();
            for (var i = 0; i < tables.Count; i++)
            {
                var local = await source.LocalPathAsync(datasets, tables[i], cancellationToken).ConfigureAwait(false);
                parts.Add($"SELECT *, {i} AS __file FROM {DatasetFileReader.NumberedRelation(connection, local, tables[i].Path, "__row")}");
            }

            Execute(connection, $"CREATE OR REPLACE TEMP VIEW {relation}_raw AS {string.Join(" UNION ALL BY NAME ", parts)}");
            var columns = Columns(connection, $"{relation}_raw");
            var missing = new List<string>();
            var key = view.Entity.JoinKey!;
            foreach (var column in new[] { key, view.Spec.Timestamp! }.Concat(features.Select(feature => feature.Column ?? feature.Name)))
            {
                if (!columns.Contains(column))
                {
                    missing.Add(column);
                }
            }

            if (missing.Count > 0)
            {
                throw TrackingException.Invalid($"Feature view '{view.Name}': dataset {version.Reference} has no column {string.Join(", ", missing.Select(column => $"'{column}'"))}; it has {string.Join(", ", columns.Where(column => !column.StartsWith("__", StringComparison.Ordinal)))}.");
            }

            if (view.Entity.Type == FeatureTypes.Int64 && FractionalKeys(connection, $"{relation}_raw", key) is { Count: > 0 } fractions)
            {
                // The cast to BIGINT would round 1.5 to 2, another entity's key: the version is refused, as a training
                // set's entities file is, and a new version with whole keys is read instead.
                throw TrackingException.Invalid($"Feature view '{view.Name}': dataset {version.Reference} has '{key}' values that are not whole numbers ({string.Join(", ", fractions)}); entity '{view.Entity.Name}' has int64 keys.");
            }

            var select = new StringBuilder($"SELECT {KeyValue(key, view.Entity)} AS __key, CAST({Identifier(view.Spec.Timestamp!)} AS TIMESTAMP) AS __ts");
            foreach (var feature in features)
            {
                select.Append(CultureInfo.InvariantCulture, $", TRY_CAST({Identifier(feature.Column ?? feature.Name)} AS {FeatureTypes.SqlType(feature.Type!)}) AS {Identifier(feature.Name)}");
            }

            select.Append(CultureInfo.InvariantCulture, $", __file, __row FROM {relation}_raw WHERE {Identifier(key)} IS NOT NULL AND {Identifier(view.Spec.Timestamp!)} IS NOT NULL");
            Execute(connection, $"CREATE OR REPLACE TEMP VIEW {relation} AS {select}");
            return source;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<FeatureSource> OpenStreamAsync(DuckDBConnection connection, string relation, ResolvedView view, IReadOnlyList<FeatureSpec> features,
        FeatureStreams? streams, long? after, long? until, CancellationToken cancellationToken)
    {
        var stream = view.Spec.Source!;
        if (streams is null)
        {
            throw TrackingException.Invalid($"Feature view '{view.Name}' reads {stream.StreamName}, a stream this offline store cannot read (it has no prediction log or KPI access).");
        }

        var source = new FeatureSource(stream.StreamName);
        try
        {
            await streams.LoadAsync(connection, $"{relation}_raw", view, features, after, until, source._copies, cancellationToken).ConfigureAwait(false);
            // An int64 entity's key is a whole number however it was logged (42, 42.0, "042"); a fraction is no key
            // (DuckDB's cast would round 1.5 to 2, another entity's key), nor is text that is no number. A stream's rows
            // cannot be corrected, so such rows are skipped and counted (Skipped) rather than stopping the view for good.
            var key = view.Entity.Type == FeatureTypes.Int64
                ? "(CASE WHEN TRY_CAST(__entity AS DOUBLE) = trunc(TRY_CAST(__entity AS DOUBLE)) THEN CAST(COALESCE(TRY_CAST(__entity AS BIGINT), TRY_CAST(TRY_CAST(__entity AS DOUBLE) AS BIGINT)) AS VARCHAR) END)"
                : "__entity";
            if (view.Entity.Type == FeatureTypes.Int64)
            {
                source.CountSkipped(connection, $"{relation}_raw", key, view);
            }

            var select = new StringBuilder($"SELECT {key} AS __key, make_timestamp(__ms * 1000) AS __ts");
            foreach (var feature in features)
            {
                var column = Identifier(feature.Name);
                // Logged numbers are JSON text: an int64 feature logged as 3.0 is still 3.
                var value = feature.Type == FeatureTypes.Int64
                    ? $"COALESCE(TRY_CAST({column} AS BIGINT), TRY_CAST(TRY_CAST({column} AS DOUBLE) AS BIGINT))"
                    : $"TRY_CAST({column} AS {FeatureTypes.SqlType(feature.Type!)})";
                select.Append(CultureInfo.InvariantCulture, $", {value} AS {column}");
            }

            select.Append(CultureInfo.InvariantCulture, $", __file, __row FROM {relation}_raw WHERE {key} IS NOT NULL");
            Execute(connection, $"CREATE OR REPLACE TEMP VIEW {relation} AS {select}");
            return source;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Rows of a stream that were not read because their entity key is none of the entity's (0 for a dataset, which is refused instead).</summary>
    public long SkippedRows { get; private set; }

    /// <summary>Why <see cref="SkippedRows"/> were skipped, with example keys; null when none were.</summary>
    public string? Skipped { get; private set; }

    private void CountSkipped(DuckDBConnection connection, string raw, string key, ResolvedView view)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*), array_to_string(list_sort(list_distinct(list(__entity)))[1:5], ', ') FROM {raw} WHERE __entity IS NOT NULL AND {key} IS NULL";
        using var reader = command.ExecuteReader();
        reader.Read();
        SkippedRows = reader.GetInt64(0);
        if (SkippedRows > 0)
        {
            var column = view.Spec.Source!.EntityColumn ?? "entity";
            Skipped = $"{SkippedRows} row(s) of {Reference} skipped: their '{column}' is not a whole number ({reader.GetString(1)}); entity '{view.Entity.Name}' has int64 keys";
        }
    }

    /// <summary>
    /// Up to 5 values of <paramref name="column"/> that are numbers with a fraction (an int64 key's cast would round
    /// them); none without reading the rows when the column is of an integer type.
    /// </summary>
    public static List<string> FractionalKeys(DuckDBConnection connection, string relation, string column)
    {
        var key = Identifier(column);
        var fractions = new List<string>();
        using (var describe = connection.CreateCommand())
        {
            describe.CommandText = $"SELECT column_type FROM (DESCRIBE SELECT {key} FROM {relation})";
            if (describe.ExecuteScalar() is string type && IntegerTypes.Contains(type))
            {
                return fractions;
            }
        }

        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT DISTINCT CAST({key} AS VARCHAR) AS k FROM {relation} WHERE TRY_CAST({key} AS DOUBLE) <> trunc(TRY_CAST({key} AS DOUBLE)) ORDER BY k LIMIT 5";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            fractions.Add(reader.GetString(0));
        }

        return fractions;
    }

    private static readonly HashSet<string> IntegerTypes = new(StringComparer.Ordinal)
    {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
    };

    public ValueTask DisposeAsync()
    {
        foreach (var copy in _copies)
        {
            File.Delete(copy);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The join key as joins compare it: an <c>int64</c> entity's key as BIGINT, so 42, 42.0 and "42" are one entity, as
    /// the 42 of an INT64 request tensor is (and integers join faster than text); any other as text.
    /// </summary>
    public static string KeyValue(string column, EntitySpec entity) =>
        entity.Type == FeatureTypes.Int64 ? $"CAST({Identifier(column)} AS BIGINT)" : $"CAST({Identifier(column)} AS VARCHAR)";

    private Task<string> LocalPathAsync(DatasetStore datasets, DatasetFile file, CancellationToken cancellationToken)
    {
        var copy = Path.Combine(Path.GetTempPath(), "ballast-features-" + Guid.NewGuid().ToString("N"));
        _copies.Add(copy);
        return datasets.LocalFileAsync(file, copy, cancellationToken);
    }
}
