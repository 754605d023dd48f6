using System.Globalization;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Monitoring;

/// <summary>
/// A monitor's reference as a table: a dataset version's file (read by DuckDB) or a window of the endpoint's traffic;
/// it writes the columns a comparison needs to a Parquet file, as <see cref="DriftTableReader"/> compares every column of its reference.
/// Disposing it releases the <see cref="ReferenceCache"/>'s copy it reads, if it reads one.
/// </summary>
public sealed class ReferenceTable : IDisposable
{
    private readonly string? _file;
    private readonly WindowTable? _window;
    private readonly HashSet<string> _columns;
    private readonly IDisposable? _lease;

    private ReferenceTable(string name, long rows, HashSet<string> columns, string? file, WindowTable? window, Datasets.DatasetFile? blob = null, IDisposable? lease = null)
    {
        Name = name;
        Rows = rows;
        _columns = columns;
        _file = file;
        _window = window;
        Blob = blob;
        _lease = lease;
    }

    public string Name { get; }

    public long Rows { get; }

    /// <summary>The dataset file the table was read from (its path in the version and SHA-256), null for a run's artifact or traffic.</summary>
    public Datasets.DatasetFile? Blob { get; }

    /// <summary>
    /// The table in the file at <paramref name="path"/>, read in place; <paramref name="blob"/> is the dataset file it
    /// holds, and <paramref name="lease"/> (disposed with the table) keeps the file while the table is used.
    /// </summary>
    public static ReferenceTable FromFile(string name, string path, Datasets.DatasetFile? blob = null, IDisposable? lease = null)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, $"SET threads = 1; CREATE VIEW reference AS SELECT * FROM {Source(path)}");
        var columns = new HashSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT column_name FROM (DESCRIBE reference)";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }
        }

        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM reference";
        return new ReferenceTable(name, Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture), columns, path, null, blob, lease);
    }

    /// <summary>
    /// The table in <paramref name="source"/>'s file, as every dataset reference is read (a monitor's, a rollout's drift
    /// check's, a CUPAC covariate's): a dataset file read in place from the <paramref name="cache"/>'s verified copy,
    /// leased until the table is disposed, so the store is read once for every later use; copied into
    /// <paramref name="folder"/> now when there is no cache, the file is larger than its bound or is a run's artifact
    /// (the copy is deleted with the table).
    /// </summary>
    internal static async Task<ReferenceTable> OpenAsync(MonitorReferenceSource source, ReferenceCache? cache, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(folder);
        IDisposable? lease = null;
        try
        {
            string path;
            if (cache is not null && source.Blob is { } blob && await cache.BlobAsync(blob, source.OpenAsync, cancellationToken).ConfigureAwait(false) is { } cached)
            {
                lease = cached;
                path = cached.Path;
            }
            else
            {
                path = Path.Combine(folder, $"reference-{Guid.NewGuid():N}{ReferenceCache.Extension(source.FilePath)}");
                lease = new LocalCopy(path);
                await using var stream = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(path);
                await stream.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }

            return FromFile(source.Name, path, source.Blob, lease);
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
    }

    public void Dispose() => _lease?.Dispose();

    public static ReferenceTable FromWindow(string name, WindowTable window) =>
        new(name, window.Rows, window.Inputs.Keys.ToHashSet(StringComparer.Ordinal), null, window);

    public bool Has(string column) => _columns.Contains(column);

    /// <summary>The feedback outcomes of a traffic reference, one per row (null without feedback); null for a dataset reference.</summary>
    public IReadOnlyList<string?>? Outcomes => _window?.Outcomes;

    /// <summary>
    /// One column's values, one per row (numbers as double, anything else as text, missing as null): an input or output
    /// of a traffic reference, or a dataset column; null when the reference has no such column.
    /// </summary>
    public IReadOnlyList<object?>? Values(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (_window is not null)
        {
            return _window.Inputs.GetValueOrDefault(column) ?? _window.Outputs.GetValueOrDefault(column);
        }

        if (!_columns.Contains(column))
        {
            return null;
        }

        return Read<object>(DuckDbSql.Identifier(column), reader => reader.GetValue(0) switch
        {
            double number => number,
            float number => number,
            int or long or short or byte or decimal or sbyte or ushort or uint or ulong => Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture),
            bool flag => flag ? "true" : "false",
            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
        });
    }

    /// <summary>A dataset column's values as text, one per row in the order <see cref="Values"/> reads them (as DuckDB casts them to VARCHAR; missing as null); null without the column.</summary>
    public IReadOnlyList<string?>? Texts(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (_window is not null || !_columns.Contains(column))
        {
            return null;
        }

        return Read($"CAST({DuckDbSql.Identifier(column)} AS VARCHAR)", reader => reader.GetString(0));
    }

    /// <summary>One expression over the dataset file's rows, in file order, each value read by <paramref name="value"/> (missing as null).</summary>
    private List<T?> Read<T>(string expression, Func<System.Data.Common.DbDataReader, T?> value)
        where T : class
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, "SET threads = 1");
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {expression} FROM {Source(_file!)}";
        using var reader = command.ExecuteReader();
        var values = new List<T?>();
        while (reader.Read())
        {
            values.Add(reader.IsDBNull(0) ? null : value(reader));
        }

        return values;
    }

    /// <summary>Whether the reference holds the model output's values: the traffic's output, or a dataset column of that name.</summary>
    public bool HasOutput(string output) => _window is null ? _columns.Contains(output) : _window.Outputs.ContainsKey(output);

    public string Write(string scratch, IReadOnlyList<string> columns)
    {
        var path = Path.Combine(scratch, $"reference-{Guid.NewGuid():N}.parquet");
        if (_window is not null)
        {
            _window.WriteParquet(path, columns.Select(column => (column, _window.Inputs[column])).ToList());
            return path;
        }

        Copy(columns, path);
        return path;
    }

    public string WriteOutput(string scratch, string output)
    {
        var path = Path.Combine(scratch, $"prediction-reference-{Guid.NewGuid():N}.parquet");
        if (_window is not null)
        {
            _window.WriteParquet(path, [(output, _window.Outputs[output])]);
            return path;
        }

        Copy([output], path);
        return path;
    }

    private void Copy(IReadOnlyList<string> columns, string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, $"SET threads = 1; COPY (SELECT {string.Join(", ", columns.Select(DuckDbSql.Identifier))} FROM {Source(_file!)}) TO {DuckDbSql.Literal(path)} (FORMAT parquet)");
    }

    /// <summary>A local copy of a reference file, deleted when the table that reads it is disposed.</summary>
    private sealed class LocalCopy(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }

    private static string Source(string path) => Ballast.Datasets.DatasetProfiler.FormatOf(path) switch
    {
        "parquet" => $"read_parquet({DuckDbSql.Literal(path)})",
        "tsv" => $"read_csv({DuckDbSql.Literal(path)}, delim = '\\t', sample_size = -1)",
        _ => $"read_csv({DuckDbSql.Literal(path)}, sample_size = -1)",
    };
}
