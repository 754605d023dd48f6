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

    private FeatureSource(DatasetVersion version) => Version = version;

    public DatasetVersion Version { get; }

    public static async Task<FeatureSource> OpenAsync(DuckDBConnection connection, string relation, ResolvedView view, IReadOnlyList<FeatureSpec> features,
        DatasetStore datasets, IArtifactStore artifacts, CancellationToken cancellationToken)
    {
        var version = await datasets.GetVersionAsync(DatasetReference.Parse(view.Spec.Source!.Dataset!), cancellationToken).ConfigureAwait(false);
        var source = new FeatureSource(version);
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
                var local = await source.LocalPathAsync(artifacts, tables[i], cancellationToken).ConfigureAwait(false);
                parts.Add($"SELECT *, {i} AS __file FROM {NumberedReader(connection, local, tables[i].Path, "__row")}");
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

    public ValueTask DisposeAsync()
    {
        foreach (var copy in _copies)
        {
            File.Delete(copy);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>DuckDB's reader for a local file, by the format its dataset path names.</summary>
    public static string Reader(string localFile, string datasetPath)
    {
        var format = DatasetProfiler.FormatOf(datasetPath);
        if (format == "parquet")
        {
            return $"read_parquet({Literal(localFile)})";
        }

        var compression = datasetPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? "gzip" : "none";
        return $"read_csv({Literal(localFile)}, header = true, compression = '{compression}'{(format == "tsv" ? ", delim = '\\t'" : "")})";
    }

    /// <summary>
    /// A relation of the file's rows with their position in it as <paramref name="rowColumn"/> (from 0 for Parquet, 1
    /// for CSV; only the order counts). Parquet gives the position as it reads, in parallel; CSV rows are numbered by a
    /// window over the whole file, which DuckDB computes in one thread.
    /// </summary>
    public static string NumberedReader(DuckDBConnection connection, string localFile, string datasetPath, string rowColumn)
    {
        var reader = Reader(localFile, datasetPath);
        if (DatasetProfiler.FormatOf(datasetPath) == "parquet" && !Columns(connection, reader).Contains("file_row_number"))
        {
            return $"(SELECT * EXCLUDE (file_row_number), file_row_number AS {rowColumn} FROM read_parquet({Literal(localFile)}, file_row_number = true))";
        }

        return $"(SELECT *, row_number() OVER () AS {rowColumn} FROM {reader})";
    }

    public static HashSet<string> Columns(DuckDBConnection connection, string relation)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT column_name FROM (DESCRIBE SELECT * FROM {relation})";
        using var reader = command.ExecuteReader();
        var columns = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    /// <summary>
    /// The join key as joins compare it: an <c>int64</c> entity's key as BIGINT, so 42, 42.0 and "42" are one entity, as
    /// the 42 of an INT64 request tensor is (and integers join faster than text); any other as text.
    /// </summary>
    public static string KeyValue(string column, EntitySpec entity) =>
        entity.Type == FeatureTypes.Int64 ? $"CAST({Identifier(column)} AS BIGINT)" : $"CAST({Identifier(column)} AS VARCHAR)";

    private async Task<string> LocalPathAsync(IArtifactStore artifacts, DatasetFile file, CancellationToken cancellationToken)
    {
        if (artifacts is FileArtifactStore local)
        {
            return local.LocalPath(DatasetStore.BlobPath(file.Sha256));
        }

        var copy = Path.Combine(Path.GetTempPath(), "ballast-features-" + Guid.NewGuid().ToString("N"));
        _copies.Add(copy);
        await using var source = await artifacts.OpenReadAsync(DatasetStore.BlobPath(file.Sha256), cancellationToken).ConfigureAwait(false);
        await using var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous);
        await source.CopyToAsync(target, ContentAddressing.CopyBufferSize, cancellationToken).ConfigureAwait(false);
        return copy;
    }
}
